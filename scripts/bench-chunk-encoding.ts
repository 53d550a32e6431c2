/**
 * What a transfer chunk costs to carry as base64 in JSON (the `files` frames of agents before binary
 * chunks) compared with binary messages (server/protocol/binary.ts, and the same framing on the file
 * worker's pipe, agent/files/pipe.ts): for one 512 KiB chunk, the worker's and the agent's
 * JSON.stringify with base64, the agent's and the server's JSON.parse with base64 decoding, and the
 * server's check of the reply against the protocol's ReadChunk schema (arktype, the base64 pattern
 * over ~700 KB); then the same path with binary messages: encode and decode on the pipe and on the
 * socket, and the check of the small JSON part (docs/benchmarks.md, File transfers).
 *
 *   bun scripts/bench-chunk-encoding.ts [--rounds 400]
 */
import { parseArgs } from "node:util";
import { PipeReader, pipeMessage } from "../agent/files/pipe.ts";
import { decodeBinaryFrame, encodeBinaryFrame } from "../server/protocol/binary.ts";
import { MAX_CHUNK_BYTES, ReadChunk } from "../server/protocol/files.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "400" } } });
const rounds = Number(values.rounds);
const chunk = new Uint8Array(MAX_CHUNK_BYTES);
for (let i = 0; i < chunk.length; i += 65_536) crypto.getRandomValues(chunk.subarray(i, i + 65_536));

const time = (fn: () => void) => {
  for (let i = 0; i < 20; i++) fn();
  const t = performance.now();
  for (let i = 0; i < rounds; i++) fn();
  return (performance.now() - t) / rounds;
};
let frame = "";
const encode = time(() => {
  frame = JSON.stringify({
    type: "result",
    id: "0190e0c4-0000-7000-8000-000000000000",
    data: { ok: true, data: { data: Buffer.from(chunk).toString("base64"), eof: false } },
  });
});
let decoded = 0;
const decode = time(() => {
  const f = JSON.parse(frame) as { data: { data: { data: string } } };
  decoded = Buffer.from(f.data.data.data, "base64").length;
});
const reply = (JSON.parse(frame) as { data: { data: unknown } }).data.data;
const validate = time(() => {
  ReadChunk(reply);
});
const copy = time(() => {
  Buffer.from(chunk).subarray(0);
});
const perChunk = 2 * encode + 2 * decode + validate;
// binary: the worker's pipe message and the agent's socket message, each encoded and decoded once; the JSON part checked once
const head = { type: "result", id: "0190e0c4-0000-7000-8000-000000000000", v: 1, data: { ok: true, data: { eof: false } } };
let message: Uint8Array = new Uint8Array(0);
const binEncode = time(() => {
  message = encodeBinaryFrame(head, chunk);
});
const binDecode = time(() => {
  const r = decodeBinaryFrame(message);
  if ("problem" in r) throw new Error(r.problem);
  decoded = r.payload.length;
});
let piped: Uint8Array = new Uint8Array(0);
const pipeEncode = time(() => {
  piped = pipeMessage({ id: 1, result: head.data }, chunk);
});
const pipeDecode = time(() => {
  // as the pipe delivers it: 64 KiB reads
  const reader = new PipeReader();
  for (let at = 0; at < piped.length; at += 65_536) reader.push(piped.subarray(at, at + 65_536));
});
const binValidate = time(() => {
  ReadChunk(head.data.data);
});
const binaryPath = binEncode + binDecode + pipeEncode + pipeDecode + binValidate;
console.log(
  JSON.stringify(
    {
      chunkBytes: MAX_CHUNK_BYTES,
      frameBytes: frame.length,
      decodedBytes: decoded,
      msPerChunk: {
        stringifyWithBase64: +encode.toFixed(3),
        parseWithBase64: +decode.toFixed(3),
        validateReadChunk: +validate.toFixed(3),
        rawCopy: +copy.toFixed(3),
        /** worker → agent and agent → server each stringify and parse once; the server validates once. */
        wholePath: +perChunk.toFixed(3),
      },
      binary: {
        messageBytes: message.length,
        msPerChunk: {
          socketEncode: +binEncode.toFixed(3),
          socketDecode: +binDecode.toFixed(3),
          pipeEncode: +pipeEncode.toFixed(3),
          pipeDecodeIn64KiBReads: +pipeDecode.toFixed(3),
          validateJsonPart: +binValidate.toFixed(4),
          wholePath: +binaryPath.toFixed(3),
        },
      },
      load: (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" "),
    },
    null,
    2,
  ),
);
