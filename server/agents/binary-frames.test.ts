import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BINARY_PREFIX_BYTES, decodeBinaryFrame, encodeBinaryFrame } from "../protocol/binary.ts";
import { MAX_CHUNK_BYTES } from "../protocol/files.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import { signBody, signingKey, socketChallenge } from "../protocol/signing.ts";
import { enrollDevice, facts, sample } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * File chunks as binary messages on the real server's agent socket, with a raw WebSocket standing
 * in for the agent: an agent whose hello says `binaryChunks` gets upload chunks raw and may answer
 * reads raw; one whose hello does not (every agent before them) gets base64 in the text frame, as
 * before; a malformed binary message is BAD_FRAME like a bad text frame, and nothing is stored or
 * settled by it.
 */
let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

type Received = { text?: ServerFrame; binary?: { frame: Record<string, unknown>; payload: Uint8Array; size: number } };

async function agentSocket(helloBinary: boolean | undefined) {
  const d = await enrollDevice(srv, `host-${crypto.randomUUID().slice(0, 8)}`);
  const ts = Date.now();
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
  const sig = signBody(signingKey(d.secret), ts, socketChallenge(d.deviceId, nonce));
  const q = new URLSearchParams({ device: d.deviceId, ts: String(ts), nonce, sig, v: "1" });
  const ws = new WebSocket(`${srv.url.replace("http", "ws")}/api/agent/v1/ws?${q}`);
  ws.binaryType = "arraybuffer";
  const got: Received[] = [];
  ws.addEventListener("message", (e) => {
    if (typeof e.data === "string") got.push({ text: JSON.parse(e.data) });
    else {
      const bytes = new Uint8Array(e.data as ArrayBuffer);
      const r = decodeBinaryFrame(bytes);
      if ("problem" in r) throw new Error(r.problem);
      got.push({ binary: { ...r, size: bytes.length } });
    }
  });
  const welcome = await waitFor("welcome", async () => got.find((g) => g.text?.type === "welcome")?.text);
  const hello = { agentVersion: "1.0.0", facts: facts(), ...(helloBinary === undefined ? {} : { binaryChunks: helloBinary }) };
  ws.send(JSON.stringify({ v: 1, id: crypto.randomUUID(), type: "hello", data: hello }));
  const agents = srv.server.services.agents;
  await waitFor("hello seen", async () => agents.get(d.deviceId)?.binaryChunks === (helloBinary === true) && agents.get(d.deviceId));
  return { ...d, ws, got, welcome };
}

const writeFrame = (offset = 0) =>
  ({
    type: "files",
    data: { op: "write", transferId: crypto.randomUUID(), path: "/tmp/never-written.bin", offset, elevated: false },
  }) as const;
const readFrame = () =>
  ({
    type: "files",
    data: {
      op: "read",
      transferId: crypto.randomUUID(),
      path: "/tmp/x.bin",
      offset: 0,
      length: 1000,
      size: 1000,
      mtime: 1,
      elevated: false,
    },
  }) as const;

describe("binary chunks on the agent socket", () => {
  test("the welcome tells every agent the server takes binary chunks", async () => {
    const a = await agentSocket(undefined);
    expect(a.welcome.type === "welcome" && a.welcome.data.binaryChunks).toBe(true);
    a.ws.close();
  });

  test("an agent that said binaryChunks: a write goes as one binary message (JSON part without data, the bytes raw); a binary read result settles the call with its bytes", async () => {
    const a = await agentSocket(true);
    const agents = srv.server.services.agents;
    const payload = crypto.getRandomValues(new Uint8Array(MAX_CHUNK_BYTES));
    const call = agents.call(a.deviceId, writeFrame(), 5000, payload);
    const sent = await waitFor("the write", async () => a.got.find((g) => g.binary)?.binary);
    expect(sent.frame).toMatchObject({ v: 1, type: "files", data: { op: "write", offset: 0, elevated: false } });
    expect((sent.frame.data as Record<string, unknown>).data).toBeUndefined();
    expect(Buffer.from(sent.payload).equals(Buffer.from(payload))).toBe(true);
    // a third less than base64 would take: the chunk and a small header
    expect(sent.size - payload.length).toBeLessThan(400);
    a.ws.send(JSON.stringify({ v: 1, id: sent.frame.id, type: "result", data: { ok: true, data: { offset: payload.length } } }));
    expect(await call).toEqual({ ok: true, data: { offset: payload.length }, wireBytes: sent.size });

    const read = agents.call(a.deviceId, readFrame(), 5000);
    const asked = await waitFor("the read", async () => a.got.find((g) => g.text?.type === "files")?.text);
    const bytes = crypto.getRandomValues(new Uint8Array(1000));
    const answer = encodeBinaryFrame(
      { v: 1, id: asked.id, type: "result", data: { ok: true, data: { eof: true, sha256: "a".repeat(64) } } },
      bytes,
    );
    a.ws.send(answer);
    const r = await read;
    expect(r).toMatchObject({ ok: true, data: { eof: true }, wireBytes: answer.length });
    expect(Buffer.from(r.payload ?? []).equals(Buffer.from(bytes))).toBe(true);
    a.ws.close();
  });

  test("an agent whose hello does not say it (every agent before binary chunks): the write's bytes go in base64 in a text frame", async () => {
    for (const said of [undefined, false]) {
      const a = await agentSocket(said);
      const payload = crypto.getRandomValues(new Uint8Array(3000));
      const call = srv.server.services.agents.call(a.deviceId, writeFrame(), 5000, payload);
      const sent = await waitFor("the write", async () => a.got.find((g) => g.text?.type === "files")?.text);
      expect(a.got.some((g) => g.binary)).toBe(false);
      expect(sent.type === "files" && sent.data.op === "write" && sent.data.data).toBe(Buffer.from(payload).toString("base64"));
      a.ws.send(JSON.stringify({ v: 1, id: sent.id, type: "result", data: { ok: true, data: { offset: 3000 } } }));
      const r = await call;
      expect(r).toMatchObject({ ok: true, data: { offset: 3000 } });
      expect(r.wireBytes).toBe(Buffer.byteLength(JSON.stringify(sent)));
      a.ws.close();
    }
  });

  test("malformed binary messages are BAD_FRAME, like bad text frames: nothing stored, nothing settled, the socket stays", async () => {
    const a = await agentSocket(true);
    const read = srv.server.services.agents.call(a.deviceId, readFrame(), 10_000);
    const asked = await waitFor("the read", async () => a.got.find((g) => g.text?.type === "files")?.text);
    const result = (data: unknown) => ({ v: 1, id: asked.id, type: "result", data });
    const withPrefix = (prefix: number, rest: Uint8Array) => {
      const out = new Uint8Array(BINARY_PREFIX_BYTES + rest.length);
      new DataView(out.buffer).setUint32(0, prefix);
      out.set(rest, BINARY_PREFIX_BYTES);
      return out;
    };
    const bad: [string, Uint8Array<ArrayBuffer>][] = [
      ["truncated: three bytes", new Uint8Array([0, 0, 0])],
      ["a JSON part running past the end", withPrefix(500, new TextEncoder().encode('{"v":1}'))],
      ["a JSON part over its bound", withPrefix(70_000, new Uint8Array(10))],
      ["not JSON", withPrefix(5, new TextEncoder().encode("{nope"))],
      ["a payload over the chunk maximum", encodeBadPayload(result({ ok: true, data: { eof: true } }))],
      ["a JSON part that fails the frame schema", encodeBinaryFrame(result({ ok: "yes" }), new Uint8Array(10))],
      [
        "a telemetry frame with a payload",
        encodeBinaryFrame({ v: 1, id: "t1", type: "telemetry", data: { seq: 1, samples: [sample()] } }, new Uint8Array(10)),
      ],
    ];
    for (const [, message] of bad) a.ws.send(message);
    const errors = await waitFor("BAD_FRAME each", async () => {
      const e = a.got.filter((g) => g.text?.type === "error").map((g) => g.text);
      return e.length >= bad.length ? e : undefined;
    });
    expect(errors.map((e) => e?.type === "error" && e.data.code)).toEqual(bad.map(() => "BAD_FRAME"));
    const messages = errors.map((e) => (e?.type === "error" ? e.data.message : ""));
    expect(messages[0]).toContain("shorter than its length prefix");
    expect(messages[1]).toContain("runs past the end");
    expect(messages[2]).toContain("at most 65536");
    expect(messages[3]).toContain("not valid UTF-8 JSON");
    expect(messages[4]).toContain(`at most ${MAX_CHUNK_BYTES}`);
    expect(messages[6]).toContain("carries no binary payload");
    const rows = await srv.sql<{ n: number }[]>`select count(*)::int as n from device_telemetry where device_id = ${a.deviceId}`;
    const n = rows[0]?.n;
    expect(n).toBe(0);
    // the read is still waiting: the good answer settles it
    const bytes = crypto.getRandomValues(new Uint8Array(1000));
    a.ws.send(encodeBinaryFrame(result({ ok: true, data: { eof: false } }), bytes));
    const r = await read;
    expect(r.ok && Buffer.from(r.payload ?? []).equals(Buffer.from(bytes))).toBe(true);
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    a.ws.close();
  });
});

/** A well-formed message whose payload is one byte over the chunk maximum (the encoder refuses to build one). */
function encodeBadPayload(frame: unknown): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(JSON.stringify(frame));
  const out = new Uint8Array(BINARY_PREFIX_BYTES + json.length + MAX_CHUNK_BYTES + 1);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, BINARY_PREFIX_BYTES);
  return out;
}
