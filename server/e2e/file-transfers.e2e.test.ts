import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_CHUNK_BYTES } from "../protocol/files.ts";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * Transfers with the real compiled agent: a 50 MB download whose agent socket is cut half way, an
 * upload through tus with a server restart during the browser's leg and another during the
 * device's, and a 1 MB/s cap held over 20 s while the pulse keeps its interval. SHA-256 is compared
 * with the file on disk each time; bytes carried over the socket are counted (a chunk asked for
 * again counts again) and may exceed the file by one chunk at most.
 */
const settings = { telemetryIntervalS: 2, filesDeviceRateBps: 0 };
let srv: TestServer;
let agent: EnrolledAgent;
let dir: string;
const dataDir = mkdtempSync(join(tmpdir(), "sentpulse-files-data-"));

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
const transfer = async (s: TestServer, id: string) =>
  (
    await s.sql<{ state: string; doneBytes: number; wireBytes: number; sha256: string | null; error: string | null }[]>`
    select state, done_bytes::float8 as "doneBytes", wire_bytes::float8 as "wireBytes", sha256, error from file_transfers where id = ${id}`
  )[0];
const online = (s: TestServer) =>
  waitFor("online", async () => (await s.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online", 60_000);
const randomFile = (name: string, bytes: number) => {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65_536) crypto.getRandomValues(data.subarray(i, Math.min(bytes, i + 65_536)));
  const path = join(dir, name);
  writeFileSync(path, data);
  chmodSync(path, 0o644);
  return { path, data };
};

beforeAll(async () => {
  srv = await startTestServer({ ...settings, dataDir });
  agent = await enrollRealAgent(srv);
  agent.start();
  await online(srv);
  dir = mkdtempSync("/tmp/sp-transfers-");
  chmodSync(dir, 0o777);
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  await srv?.server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a download from the device", () => {
  test("50 MB with the agent's socket cut at about half: resumes, SHA-256 equal, at most one chunk sent twice", async () => {
    const { path, data } = randomFile("big.bin", 50 * 1024 * 1024);
    // 20 MB/s so the cut lands in the middle
    const res = await fetch(`${srv.url}/api/v1/devices/${agent.deviceId}/files/download?path=${encodeURIComponent(path)}&rate=20971520`, {
      headers: { cookie: srv.cookie },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-file-size")).toBe(String(data.length));
    const id = res.headers.get("x-transfer-id") ?? "";
    const hasher = new Bun.CryptoHasher("sha256");
    let received = 0;
    const reading = (async () => {
      for await (const chunk of res.body as ReadableStream<Uint8Array>) {
        hasher.update(chunk);
        received += chunk.length;
      }
    })();
    const files = srv.server.services.files;
    await waitFor("half way", async () => (files.live(id)?.doneBytes ?? 0) >= data.length / 2, 30_000, 20);
    const cutAt = files.live(id)?.doneBytes ?? 0;
    expect(srv.server.services.agents.disconnect(agent.deviceId, 0)).toBe(true);
    await waitFor("waiting for the device", async () => files.live(id)?.state === "waiting", 10_000, 20);
    await reading;
    expect(received).toBe(data.length);
    expect(hasher.digest("hex")).toBe(sha256(data));
    const t = await transfer(srv, id);
    expect(t).toMatchObject({ state: "done", doneBytes: data.length, sha256: sha256(data) });
    expect(t!.wireBytes).toBeLessThanOrEqual(data.length + MAX_CHUNK_BYTES);
    expect(cutAt).toBeLessThan(data.length * 0.8);
    // the browser resumes its own leg with Range: the same transfer, no new read from the device
    const tail = await fetch(`${srv.url}/api/v1/devices/${agent.deviceId}/files/download?path=${encodeURIComponent(path)}`, {
      headers: { cookie: srv.cookie, range: `bytes=${data.length - 1000}-` },
    });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("content-range")).toBe(`bytes ${data.length - 1000}-${data.length - 1}/${data.length}`);
    expect(tail.headers.get("x-transfer-id")).toBe(id);
    expect(tail.headers.get("repr-digest")).toBe(`sha-256=:${Buffer.from(sha256(data), "hex").toString("base64")}:`);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(data.subarray(data.length - 1000));
    const [audit] = await srv.sql<{ details: { outcome: string; bytes: number } }[]>`
      select details from audit_log where action = 'file.download.done' and details->>'transferId' = ${id}`;
    expect(audit?.details).toMatchObject({ outcome: "ok", bytes: data.length });
  }, 120_000);
});

describe("a download when the agent itself restarts", () => {
  test("the agent killed half way and started again: the download resumes where the staged file ends, SHA-256 equal", async () => {
    const { path, data } = randomFile("restart.bin", 20 * 1024 * 1024);
    const res = await fetch(`${srv.url}/api/v1/devices/${agent.deviceId}/files/download?path=${encodeURIComponent(path)}&rate=8388608`, {
      headers: { cookie: srv.cookie },
    });
    const id = res.headers.get("x-transfer-id") ?? "";
    const body = res.arrayBuffer();
    const files = srv.server.services.files;
    await waitFor("40 %", async () => (files.live(id)?.doneBytes ?? 0) >= data.length * 0.4, 30_000, 20);
    // SIGKILL: no goodbye, the worker goes with its parent; the new agent rebuilds the hash from the file
    const pid = readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .find((p) => {
        try {
          const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
          return cmd.includes(agent.configPath) && cmd.includes("\0run\0");
        } catch {
          return false;
        }
      });
    expect(pid).toBeDefined();
    process.kill(Number(pid), "SIGKILL");
    await agent.stop();
    agent.start();
    const received = new Uint8Array(await body);
    expect(sha256(received)).toBe(sha256(data));
    const t = await transfer(srv, id);
    expect(t).toMatchObject({ state: "done", sha256: sha256(data) });
    expect(t!.wireBytes).toBeLessThanOrEqual(data.length + MAX_CHUNK_BYTES);
  }, 120_000);
});

describe("an upload to the device", () => {
  test("tus with a server restart in the browser's leg and another in the device's: the file arrives whole, SHA-256 equal", async () => {
    const size = 24 * 1024 * 1024;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(data.subarray(i, i + 65_536));
    const target = join(dir, "uploaded.bin");
    const b64 = (v: string) => Buffer.from(v).toString("base64");
    const tusHeaders = (s: TestServer) => ({ cookie: s.cookie, "tus-resumable": "1.0.0", origin: s.url });
    const created = await fetch(`${srv.url}/api/v1/devices/${agent.deviceId}/files/uploads`, {
      method: "POST",
      headers: {
        ...tusHeaders(srv),
        "upload-length": String(size),
        "upload-metadata": `path ${b64(target)},filename ${b64("uploaded.bin")}`,
      },
    });
    expect([created.status, created.status === 201 ? "" : await created.text()]).toEqual([201, ""]);
    const location = created.headers.get("location") ?? "";
    expect(location).toMatch(new RegExp(`^/api/v1/devices/${agent.deviceId}/files/uploads/[0-9a-f-]{36}$`));
    const patch = async (s: TestServer, from: number, to: number) => {
      let res: Response | undefined;
      for (let at = from; at < to; at += 1_048_576) {
        const end = Math.min(to, at + 1_048_576);
        res = await fetch(`${s.url}${location}`, {
          method: "PATCH",
          headers: { ...tusHeaders(s), "upload-offset": String(at), "content-type": "application/offset+octet-stream" },
          body: data.subarray(at, end),
        });
        expect([at, res.status]).toEqual([at, 204]);
      }
      return res;
    };
    await patch(srv, 0, size / 2);

    // restart during the browser's leg
    const { port, databaseUrl } = srv;
    await srv.server.stop();
    srv = await startTestServer({ ...settings, dataDir, port, filesDeviceRateBps: 8 * 1024 * 1024 }, databaseUrl);
    const head = await fetch(`${srv.url}${location}`, { method: "HEAD", headers: tusHeaders(srv) });
    expect(head.headers.get("upload-offset")).toBe(String(size / 2));
    const last = await patch(srv, size / 2, size);
    const id = last?.headers.get("x-transfer-id") ?? "";
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    // restart during the device's leg (8 MB/s: three seconds)
    await online(srv);
    await waitFor("a third sent to the device", async () => (srv.server.services.files.live(id)?.doneBytes ?? 0) >= size / 3, 30_000, 20);
    await srv.server.stop();
    srv = await startTestServer({ ...settings, dataDir, port }, databaseUrl);
    const s = srv;
    await waitFor("done", async () => (await transfer(s, id))?.state === "done", 60_000);
    const t = await transfer(s, id);
    expect(t).toMatchObject({ doneBytes: size, sha256: sha256(data) });
    expect(t!.wireBytes).toBeLessThanOrEqual(size + MAX_CHUNK_BYTES);
    expect(sha256(readFileSync(target))).toBe(sha256(data));
    // the staged upload is gone; no partial file is left beside the target
    expect(
      [...new Bun.Glob("*").scanSync({ cwd: s.server.services.files.uploadsDir })].filter((f) =>
        f.startsWith(location.split("/").at(-1) ?? "-"),
      ),
    ).toEqual([]);
    expect([...new Bun.Glob(".sentpulse-*").scanSync({ cwd: dir, dot: true })]).toEqual([]);
  }, 180_000);

  test("bad uploads: a `..` path, control characters, another device's upload id → 4xx with a code; nothing is created", async () => {
    const b64 = (v: string) => Buffer.from(v).toString("base64");
    for (const bad of [`${dir}/../evil`, `${dir}/a\u0001b`, "relative/path"]) {
      const res = await fetch(`${srv.url}/api/v1/devices/${agent.deviceId}/files/uploads`, {
        method: "POST",
        headers: {
          cookie: srv.cookie,
          origin: srv.url,
          "tus-resumable": "1.0.0",
          "upload-length": "10",
          "upload-metadata": `path ${b64(bad)}`,
        },
      });
      expect([bad, res.status]).toEqual([bad, 422]);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
    }
    const missing = await fetch(`${srv.url}/api/v1/devices/${agent.deviceId}/files/uploads/${crypto.randomUUID()}`, {
      method: "HEAD",
      headers: { cookie: srv.cookie, "tus-resumable": "1.0.0" },
    });
    expect(missing.status).toBe(404);
  });
});

describe("device to device", () => {
  test("a file of one real agent copied to another through the staging area: both checksums checked, audited", async () => {
    const second = await enrollRealAgent(srv);
    second.start();
    try {
      await waitFor(
        "second online",
        async () => (await srv.sql`select status from devices where id = ${second.deviceId}`)[0]?.status === "online",
        60_000,
      );
      const { path, data } = randomFile("to-send.bin", 3 * 1024 * 1024 + 17);
      const target = join(dir, "received-from-a.bin");
      const res = await srv.api(`/api/v1/devices/${agent.deviceId}/files/send`, {
        body: { path, toDeviceId: second.deviceId, toPath: target },
      });
      expect(res.status).toBe(202);
      const { upload } = (await res.json()) as { upload: { id: string; deviceId: string } };
      expect(upload.deviceId).toBe(second.deviceId);
      await waitFor("arrived", async () => (await transfer(srv, upload.id))?.state === "done", 60_000);
      expect(sha256(readFileSync(target))).toBe(sha256(data));
      expect((await transfer(srv, upload.id))?.sha256).toBe(sha256(data));
      const [audit] = await srv.sql<{ details: Record<string, unknown> }[]>`select details from audit_log where action = 'file.send'`;
      expect(audit?.details).toMatchObject({ path, toDeviceId: second.deviceId, toPath: target, size: data.length });
      // to itself, or to a device out of reach: refused before anything moves
      expect(
        (await srv.api(`/api/v1/devices/${agent.deviceId}/files/send`, { body: { path, toDeviceId: agent.deviceId, toPath: target } }))
          .status,
      ).toBe(409);
      expect(
        (await srv.api(`/api/v1/devices/${agent.deviceId}/files/send`, { body: { path, toDeviceId: crypto.randomUUID(), toPath: target } }))
          .status,
      ).toBe(404);
    } finally {
      await second.stop();
    }
  }, 120_000);
});

describe("throttling", () => {
  test("a 1 MB/s cap holds within 10 % over 20 s while the pulse keeps its interval", async () => {
    const { path } = randomFile("throttled.bin", 40 * 1024 * 1024);
    const rate = 1024 * 1024;
    const res = await fetch(`${srv.url}/api/v1/devices/${agent.deviceId}/files/download?path=${encodeURIComponent(path)}&rate=${rate}`, {
      headers: { cookie: srv.cookie },
    });
    const id = res.headers.get("x-transfer-id") ?? "";
    const reading = (async () => {
      try {
        for await (const _ of res.body as ReadableStream<Uint8Array>);
      } catch {}
    })();
    const files = srv.server.services.files;
    await Bun.sleep(2000);
    const from = { at: performance.now(), bytes: files.live(id)?.doneBytes ?? 0, time: new Date() };
    await Bun.sleep(20_000);
    const to = { at: performance.now(), bytes: files.live(id)?.doneBytes ?? 0, time: new Date() };
    const bps = ((to.bytes - from.bytes) / (to.at - from.at)) * 1000;
    expect(bps).toBeGreaterThan(rate * 0.9);
    expect(bps).toBeLessThan(rate * 1.1);
    // the pulse: telemetry every 2 s kept arriving, no gap longer than two intervals
    const samples = await srv.sql<{ time: Date }[]>`
      select time from device_telemetry where device_id = ${agent.deviceId} and time between ${from.time} and ${to.time} order by time`;
    expect(samples.length).toBeGreaterThanOrEqual(8);
    const gaps = samples.slice(1).map((s, i) => s.time.getTime() - (samples[i]?.time.getTime() ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(4000);
    const cancel = await srv.api(`/api/v1/files/transfers/${id}/cancel`, { body: {} });
    expect(cancel.status).toBe(200);
    await reading;
    expect((await transfer(srv, id))?.state).toBe("cancelled");
  }, 60_000);
});
