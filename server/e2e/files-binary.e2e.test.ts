import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { join } from "node:path";
import { agentBinaryAt, type EnrolledAgent, enrollRealAgent } from "../testing/agents.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * File chunks as binary messages, with real compiled agents: today's (its hello says
 * `binaryChunks`) and the agent as it was before binary chunks (built from this repository's commit
 * e85a78b, which speaks base64 only; in a clone without that commit, today's agent with
 * SENTPULSE_AGENT_TEXT_FRAMES=1, which speaks as it did), side by side on one server. Each agent reaches the server
 * through its own TCP relay on loopback that counts the bytes each way, so what a transfer puts on
 * the wire is measured, not inferred. Device-to-device copies both ways move a download from and an
 * upload to each; SHA-256 checked. A capped download from each: the bytes on the wire hold the cap
 * within 10 % for both (the caps count the frame as it travels: raw plus a small header for the new
 * agent, base64 for the old, whose file bytes then move at about 3/4 of the cap). Binary messages
 * today's agent must not act on (a bad path, the bytes twice, bytes beside another op) are answered
 * BAD_FRAME at once and write nothing.
 */
const BEFORE_BINARY_CHUNKS = "e85a78bbda703c9859f9781cb34a6c88147e0f72";
let srv: TestServer;
let dir: string;
const agents: Record<"fresh" | "old", EnrolledAgent | undefined> = { fresh: undefined, old: undefined };
const relays: Record<"fresh" | "old", Relay | undefined> = { fresh: undefined, old: undefined };

interface Relay {
  url: string;
  /** Bytes agent → server and server → agent so far. */
  up: number;
  down: number;
  server: Server;
}

/** A TCP relay to the test server that counts bytes each way (the agent's line, as a byte counter sees it). */
async function relay(port: number): Promise<Relay> {
  const r = { url: "", up: 0, down: 0 } as Relay;
  r.server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port });
    client.on("data", (d) => {
      r.up += d.length;
    });
    upstream.on("data", (d) => {
      r.down += d.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => r.server.listen(0, "127.0.0.1", resolve));
  const address = r.server.address();
  r.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return r;
}

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
const randomFile = (name: string, bytes: number) => {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65_536) crypto.getRandomValues(data.subarray(i, Math.min(bytes, i + 65_536)));
  const path = join(dir, name);
  writeFileSync(path, data);
  chmodSync(path, 0o644);
  return { path, data };
};
const transfer = async (id: string) =>
  (
    await srv.sql<{ state: string; doneBytes: number; sha256: string | null; error: string | null }[]>`
      select state, done_bytes::float8 as "doneBytes", sha256, error from file_transfers where id = ${id}`
  )[0];
const online = (a: EnrolledAgent) =>
  waitFor("online", async () => (await srv.sql`select status from devices where id = ${a.deviceId}`)[0]?.status === "online", 60_000);

beforeAll(async () => {
  const old = await agentBinaryAt(BEFORE_BINARY_CHUNKS);
  srv = await startTestServer({ telemetryIntervalS: 2, filesDeviceRateBps: 0 });
  for (const which of ["fresh", "old"] as const) {
    const r = await relay(srv.port);
    relays[which] = r;
    // the agent of that commit where git has it, else today's told to speak as it did (text frames only)
    const asOld = old ? { binary: old } : { env: { SENTPULSE_AGENT_TEXT_FRAMES: "1" } };
    if (which === "old" && !old)
      console.warn(`commit ${BEFORE_BINARY_CHUNKS} not in this clone: the old agent is today's with SENTPULSE_AGENT_TEXT_FRAMES=1`);
    const a = await enrollRealAgent(srv, [], { server: r.url, ...(which === "old" ? asOld : {}) });
    agents[which] = a;
    a.start();
  }
  await Promise.all(Object.values(agents).map((a) => online(a as EnrolledAgent)));
  dir = mkdtempSync("/tmp/sp-binary-chunks-");
  chmodSync(dir, 0o777);
}, 240_000);
afterAll(async () => {
  for (const a of Object.values(agents)) await a?.stop();
  await srv?.stop();
  for (const r of Object.values(relays)) r?.server.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("an agent from before binary chunks beside today's", () => {
  test("the hub knows which takes binary chunks: today's said so in its hello, the old one did not", async () => {
    const hub = srv.server.services.agents;
    await waitFor("hellos", async () => hub.get(agents.fresh?.deviceId ?? "")?.binaryChunks === true);
    expect(hub.get(agents.old?.deviceId ?? "")?.binaryChunks).toBeFalsy();
  }, 30_000);

  test("device to device both ways (a download from each, an upload to each): whole, SHA-256 equal", async () => {
    const fresh = agents.fresh as EnrolledAgent;
    const old = agents.old as EnrolledAgent;
    const copies = [
      { from: fresh, to: old, ...randomFile("from-fresh.bin", 6 * 1024 * 1024 + 5) },
      { from: old, to: fresh, ...randomFile("from-old.bin", 5 * 1024 * 1024 + 3) },
    ];
    const uploads = await Promise.all(
      copies.map(async (c) => {
        const target = `${c.path}.copied`;
        const res = await srv.api(`/api/v1/devices/${c.from.deviceId}/files/send`, {
          body: { path: c.path, toDeviceId: c.to.deviceId, toPath: target },
        });
        expect(res.status).toBe(202);
        return { ...c, target, upload: ((await res.json()) as { upload: { id: string } }).upload.id };
      }),
    );
    for (const u of uploads) {
      await waitFor("copied", async () => (await transfer(u.upload))?.state === "done", 60_000);
      expect(await transfer(u.upload)).toMatchObject({ doneBytes: u.data.length, sha256: sha256(u.data) });
      expect(sha256(readFileSync(u.target))).toBe(sha256(u.data));
    }
  }, 120_000);

  test("a 1 MiB/s download from each: the bytes on each agent's line hold the cap within 10 %", async () => {
    const rate = 1024 * 1024;
    const started = await Promise.all(
      (["fresh", "old"] as const).map(async (which) => {
        const a = agents[which] as EnrolledAgent;
        const { path } = randomFile(`capped-${which}.bin`, 40 * 1024 * 1024);
        const res = await fetch(`${srv.url}/api/v1/devices/${a.deviceId}/files/download?path=${encodeURIComponent(path)}&rate=${rate}`, {
          headers: { cookie: srv.cookie },
        });
        expect(res.status).toBe(200);
        void (async () => {
          try {
            for await (const _ of res.body as ReadableStream<Uint8Array>);
          } catch {}
        })();
        return { which, id: res.headers.get("x-transfer-id") ?? "" };
      }),
    );
    const files = srv.server.services.files;
    await Bun.sleep(2000);
    const snap = () => ({
      at: performance.now(),
      wire: { fresh: relays.fresh?.up ?? 0, old: relays.old?.up ?? 0 },
      done: Object.fromEntries(started.map((s) => [s.which, files.live(s.id)?.doneBytes ?? 0])),
    });
    const from = snap();
    await Bun.sleep(12_000);
    const to = snap();
    const seconds = (to.at - from.at) / 1000;
    const wireBps = (w: "fresh" | "old") => (to.wire[w] - from.wire[w]) / seconds;
    const fileBps = (w: "fresh" | "old") => ((to.done[w] ?? 0) - (from.done[w] ?? 0)) / seconds;
    const measured = { fresh: { wire: wireBps("fresh"), file: fileBps("fresh") }, old: { wire: wireBps("old"), file: fileBps("old") } };
    console.log("bytes/s on each line and of the file", JSON.stringify(measured));
    // on the line: the cap, within 10 %, for both
    for (const w of ["fresh", "old"] as const) {
      expect([w, measured[w].wire]).toEqual([w, expect.any(Number)]);
      expect(measured[w].wire).toBeGreaterThan(rate * 0.9);
      expect(measured[w].wire).toBeLessThan(rate * 1.1);
    }
    // the file's bytes: nearly all of the line for today's agent, about 3/4 of it for the old one's
    // base64 (the file's progress moves a 512 KiB chunk at a time, so over the window it reads ±5 %)
    expect(measured.fresh.file / measured.fresh.wire).toBeGreaterThan(0.9);
    expect(measured.old.file / measured.old.wire).toBeGreaterThan(0.65);
    expect(measured.old.file / measured.old.wire).toBeLessThan(0.8);
    for (const s of started) expect((await srv.api(`/api/v1/files/transfers/${s.id}/cancel`, { body: {} })).status).toBe(200);
  }, 60_000);

  test("today's agent refuses a binary message it must not act on: BAD_FRAME at once, nothing written, the agent keeps answering", async () => {
    const a = agents.fresh as EnrolledAgent;
    const hub = srv.server.services.agents;
    const target = join(dir, "never.bin");
    const write = (data: Record<string, unknown>) =>
      ({
        type: "files",
        data: { op: "write", transferId: crypto.randomUUID(), path: target, offset: 0, elevated: false, ...data },
      }) as never;
    const bytes = crypto.getRandomValues(new Uint8Array(1000));
    const cases: [string, Promise<{ ok: boolean; code?: string }>][] = [
      // a path that skipped the server's checks: the agent's schema refuses the JSON part
      ["a `..` path", hub.call(a.deviceId, write({ path: `${dir}/../never.bin` }), 5000, bytes)],
      // the bytes twice: raw and in base64
      ["base64 beside raw bytes", hub.call(a.deviceId, write({ data: Buffer.from(bytes).toString("base64") }), 5000, bytes)],
      // only a write carries bytes to the agent
      [
        "a list with bytes",
        hub.call(a.deviceId, { type: "files", data: { op: "list", path: dir, elevated: false, hidden: false } } as never, 5000, bytes),
      ],
    ];
    for (const [what, call] of cases) {
      const r = await call;
      expect([what, r.ok, r.ok ? "" : r.code]).toEqual([what, false, "BAD_FRAME"]);
    }
    expect([...new Bun.Glob("*never*").scanSync({ cwd: dir, dot: true })]).toEqual([]);
    const listed = await hub.call(a.deviceId, { type: "files", data: { op: "list", path: dir, elevated: false, hidden: false } }, 5000);
    expect(listed.ok).toBe(true);
  }, 30_000);
});
