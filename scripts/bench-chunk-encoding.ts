/**
 * What a transfer chunk costs to carry as base64 in JSON (today's `files` call frames) compared with
 * raw bytes: for one 512 KiB chunk, the worker's and the agent's JSON.stringify with base64, the
 * agent's and the server's JSON.parse with base64 decoding, and the server's check of the reply
 * against the protocol's ReadChunk schema (arktype, the base64 pattern over ~700 KB). The sum is the
 * most binary WebSocket frames could save per chunk (docs/benchmarks.md, File transfers).
 *
 *   bun scripts/bench-chunk-encoding.ts [--rounds 400]
 */
import { parseArgs } from "node:util";
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
      load: (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" "),
    },
    null,
    2,
  ),
);
