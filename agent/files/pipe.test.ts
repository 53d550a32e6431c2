import { describe, expect, test } from "bun:test";
import { MAX_CHUNK_BYTES } from "../../server/protocol/files-limits.ts";
import { PipeReader, pipeMessage } from "./pipe.ts";

/** The agent ↔ file worker pipe: length-prefixed messages, a chunk's bytes raw beside the JSON. */
describe("the worker pipe", () => {
  test("messages split anywhere and run together come out whole, in order, bytes intact", () => {
    const chunk = crypto.getRandomValues(new Uint8Array(MAX_CHUNK_BYTES));
    const stream = Buffer.concat([
      pipeMessage({ id: 1, req: { op: "list", path: "/" } }),
      pipeMessage({ id: 2, req: { op: "write", offset: 0 } }, chunk),
      pipeMessage({ id: 3, result: { ok: true } }),
    ]);
    for (const piece of [1, 3, 7, 65_536, stream.length]) {
      const reader = new PipeReader();
      const out: ReturnType<PipeReader["push"]> = [];
      for (let at = 0; at < stream.length; at += piece) out.push(...reader.push(stream.subarray(at, at + piece)));
      expect(out.map((m) => m.message.id)).toEqual([1, 2, 3]);
      expect(out.map((m) => m.payload.length)).toEqual([0, MAX_CHUNK_BYTES, 0]);
      expect(Buffer.from(out[1]?.payload ?? []).equals(Buffer.from(chunk))).toBe(true);
    }
  });

  test("a whole listing's JSON (megabytes, beyond a socket message's JSON part) crosses the pipe", () => {
    const items = Array.from({ length: 5000 }, (_, i) => ({ name: `sentpulse-agent-${i}-${"x".repeat(300)}`, type: "file", size: i }));
    const out = new PipeReader().push(pipeMessage({ id: 9, result: { ok: true, data: { items } } }));
    const result = out[0]?.message.result as { data: { items: unknown[] } } | undefined;
    expect(result?.data.items).toHaveLength(5000);
  });

  test("a length over the bound or a malformed message throws (the pipe is dropped, not read on out of step)", () => {
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(64 * 1024 * 1024);
    expect(() => new PipeReader().push(huge)).toThrow(/at most/);
    const bad = Buffer.alloc(10);
    bad.writeUInt32BE(6, 0);
    bad.writeUInt32BE(100, 4); // its JSON part claims 100 bytes of 2
    expect(() => new PipeReader().push(bad)).toThrow(/runs past the end/);
  });
});
