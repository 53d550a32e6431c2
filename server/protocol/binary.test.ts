import { describe, expect, test } from "bun:test";
import { BINARY_PREFIX_BYTES, decodeBinaryFrame, encodeBinaryFrame, MAX_BINARY_JSON_BYTES } from "./binary.ts";
import { MAX_CHUNK_BYTES } from "./files-limits.ts";

const frame = { v: 1, id: "0190e0c4-0000-7000-8000-000000000000", type: "result", data: { ok: true, data: { eof: false } } };
const bytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));
/** A message with the given prefix, JSON text and payload, built by hand (the encoder refuses bad ones). */
const handmade = (prefix: number, json: string, payload = new Uint8Array(0)) => {
  const j = new TextEncoder().encode(json);
  const out = new Uint8Array(BINARY_PREFIX_BYTES + j.length + payload.length);
  new DataView(out.buffer).setUint32(0, prefix);
  out.set(j, BINARY_PREFIX_BYTES);
  out.set(payload, BINARY_PREFIX_BYTES + j.length);
  return out;
};

describe("binary frame codec", () => {
  test("a frame and its bytes come back as they went: the JSON part behind a big-endian length, the payload raw", () => {
    for (const n of [0, 1, 65_536, MAX_CHUNK_BYTES]) {
      const payload = bytes(n);
      const message = encodeBinaryFrame(frame, payload);
      const json = JSON.stringify(frame);
      expect(message.length).toBe(BINARY_PREFIX_BYTES + Buffer.byteLength(json) + n);
      expect(message.readUInt32BE(0)).toBe(Buffer.byteLength(json));
      const back = decodeBinaryFrame(message);
      if ("problem" in back) throw new Error(back.problem);
      expect(back.frame).toEqual(frame);
      expect(Buffer.from(back.payload).equals(Buffer.from(payload))).toBe(true);
    }
  });

  test("a path outside ASCII counts in UTF-8 bytes", () => {
    const f = { ...frame, data: { op: "write", path: "/tmp/überfile-日本" } };
    const back = decodeBinaryFrame(encodeBinaryFrame(f, bytes(10)));
    expect("frame" in back && back.frame).toEqual(f);
  });

  test("truncated: shorter than the prefix, or a JSON part that runs past the end", () => {
    expect(decodeBinaryFrame(new Uint8Array(0))).toEqual({ problem: expect.stringContaining("shorter than its length prefix") });
    expect(decodeBinaryFrame(new Uint8Array([0, 0, 1]))).toEqual({ problem: expect.stringContaining("shorter than its length prefix") });
    const whole = encodeBinaryFrame(frame, bytes(100));
    const cut = whole.subarray(0, BINARY_PREFIX_BYTES + 10);
    expect(decodeBinaryFrame(cut)).toEqual({ problem: expect.stringContaining("runs past the end") });
  });

  test("oversized: a JSON part over its bound, a payload over the chunk maximum; the encoder refuses both too", () => {
    expect(decodeBinaryFrame(handmade(MAX_BINARY_JSON_BYTES + 1, "{}"))).toEqual({
      problem: `JSON part of ${MAX_BINARY_JSON_BYTES + 1} bytes (at most ${MAX_BINARY_JSON_BYTES})`,
    });
    expect(decodeBinaryFrame(handmade(0xffffffff, "{}"))).toEqual({ problem: expect.stringContaining("at most") });
    expect(decodeBinaryFrame(handmade(2, "{}", bytes(MAX_CHUNK_BYTES + 1)))).toEqual({
      problem: `payload of ${MAX_CHUNK_BYTES + 1} bytes (at most ${MAX_CHUNK_BYTES})`,
    });
    expect(decodeBinaryFrame(handmade(2, "{}", bytes(100)), 99)).toEqual({ problem: "payload of 100 bytes (at most 99)" });
    expect(() => encodeBinaryFrame(frame, bytes(MAX_CHUNK_BYTES + 1))).toThrow(RangeError);
    expect(() => encodeBinaryFrame({ path: "x".repeat(MAX_BINARY_JSON_BYTES) }, bytes(1))).toThrow(RangeError);
  });

  test("a JSON part that is not JSON, not UTF-8, or not an object", () => {
    expect(decodeBinaryFrame(handmade(5, "{nope"))).toEqual({ problem: "the JSON part is not valid UTF-8 JSON" });
    const notUtf8 = handmade(2, "{}");
    notUtf8.set([0xff, 0xfe], BINARY_PREFIX_BYTES);
    expect(decodeBinaryFrame(notUtf8)).toEqual({ problem: "the JSON part is not valid UTF-8 JSON" });
    for (const json of ["[1,2]", "null", "42", '"text"'])
      expect(decodeBinaryFrame(handmade(json.length, json))).toEqual({ problem: "the JSON part is not an object" });
  });

  test("the payload is a view into the message, not a copy", () => {
    const message = encodeBinaryFrame(frame, bytes(1000));
    const back = decodeBinaryFrame(message);
    expect("payload" in back && back.payload.buffer).toBe(message.buffer);
  });
});
