import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { MAX_CHUNK_BYTES } from "../protocol/files.ts";
import { type Node, natsLink, startNats, startNode } from "../testing/cluster.ts";
import { ADMIN, agentBinary, freshDatabase, login, waitFor } from "../testing/harness.ts";

/**
 * A file transfer in a cluster (Debian's nats-server, two server processes on one PostgreSQL sharing
 * their data directory, the real compiled agent on the first): a download driven by the second node
 * (its chunk calls forwarded to the first over NATS) survives that node's death. Its lease
 * (file_transfers.runner_node/runner_until) runs out, then exactly one live node takes it over: the
 * runner never flips between two live nodes, the bytes carried stay within the file plus one chunk
 * per takeover, and the SHA-256 is the file's. The chunks cross NATS raw (binary messages), not in
 * base64: what the agent's node publishes stays within a few percent of the file bytes moved.
 */
const dir = mkdtempSync(join(tmpdir(), "sentpulse-files-cluster-"));
const shared = join(dir, "data");
let nats: Awaited<ReturnType<typeof startNats>>;
const nodes: Record<string, Node> = {};
let sql: postgres.Sql;
let databaseUrl = "";
let cookie = "";
let deviceId = "";
let agentProc: Subprocess | undefined;
let files: string;

const alive = (n: Node | undefined) => n !== undefined && n.proc.exitCode === null && !n.proc.killed;
const start = (name: string) =>
  startNode(name, {
    dir,
    databaseUrl,
    natsUrl: natsLink(nats.port).url,
    env: { SENTPULSE_DATA_DIR: shared, SENTPULSE_TELEMETRY_INTERVAL_S: "2" },
  });
const row = async (id: string) =>
  (
    await sql<{ state: string; doneBytes: number; wireBytes: number; sha256: string | null; runner: string | null }[]>`
      select state, done_bytes::float8 as "doneBytes", wire_bytes::float8 as "wireBytes", sha256, runner_node as runner
      from file_transfers where id = ${id}`
  )[0];

beforeAll(async () => {
  databaseUrl = await freshDatabase();
  sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  nats = await startNats(dir);
  mkdirSync(shared, { recursive: true });
  nodes.one = await start("one"); // migrates and creates the admin first
  nodes.two = await start("two");
  await waitFor("the nodes hear each other", async () => (await nodes.two?.readyz())?.nats?.nodes === 2, 30_000, 200);
  const one = nodes.one as Node;
  cookie = await login(one.url, ADMIN.email, ADMIN.password);
  const tokenRes = await fetch(`${one.url}/api/v1/enrollment-tokens`, {
    method: "POST",
    headers: { cookie, origin: one.url, "content-type": "application/json" },
    body: "{}",
  });
  const { token } = (await tokenRes.json()) as { token: string };
  const configPath = join(dir, "agent.json");
  const enroll = Bun.spawn([await agentBinary(), "enroll", "--server", one.url, "--token", token, "--config", configPath], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if ((await enroll.exited) !== 0) throw new Error(`enroll failed: ${await new Response(enroll.stderr).text()}`);
  deviceId = (JSON.parse(readFileSync(configPath, "utf8")) as { deviceId: string }).deviceId;
  agentProc = Bun.spawn([await agentBinary(), "run", "--config", configPath], { stdout: "ignore", stderr: "ignore" });
  await waitFor("online", async () => (await sql`select status from devices where id = ${deviceId}`)[0]?.status === "online", 45_000);
  files = mkdtempSync("/tmp/sp-files-cluster-");
  chmodSync(files, 0o755);
}, 240_000);

afterAll(async () => {
  agentProc?.kill("SIGTERM");
  await agentProc?.exited;
  for (const n of Object.values(nodes)) if (alive(n)) n.proc.kill("SIGKILL");
  await Promise.all(Object.values(nodes).map((n) => n.proc.exited));
  await nats?.stop();
  await sql?.end();
  rmSync(dir, { recursive: true, force: true });
  if (files) rmSync(files, { recursive: true, force: true });
});

describe("a transfer's lease in a cluster", () => {
  test("driven by the node it started on; after that node dies, exactly one live node takes it over and finishes it", async () => {
    const size = 4 * 1024 * 1024;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(data.subarray(i, i + 65_536));
    const path = join(files, "leased.bin");
    writeFileSync(path, data);
    chmodSync(path, 0o644);
    const two = nodes.two as Node;
    const one = nodes.one as Node;
    /** Bytes node one (the agent's) has published on NATS: the chunks' answers to node two, and its beats. */
    const publishedByOne = async () =>
      Number(
        /^sentpulse_cluster_bytes_sent_total (\d+)/m.exec(await (await fetch(`${one.url}/metrics`, { headers: { cookie } })).text())?.[1] ??
          Number.NaN,
      );
    const publishedBefore = await publishedByOne();
    // started on node two, whose calls reach the agent on node one over NATS; 256 KiB/s: 16 s in all
    const controller = new AbortController();
    const res = await fetch(`${two.url}/api/v1/devices/${deviceId}/files/download?path=${encodeURIComponent(path)}&rate=262144`, {
      headers: { cookie, origin: two.url },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const id = res.headers.get("x-transfer-id") ?? "";
    void (async () => {
      try {
        for await (const _ of res.body as ReadableStream<Uint8Array>);
      } catch {}
    })();
    await waitFor("under way on node two", async () => ((await row(id))?.doneBytes ?? 0) >= 512 * 1024, 30_000, 100);
    const first = (await row(id))?.runner;
    expect(first).toBeTruthy();
    // raw over NATS: base64 would be 4/3 of the file bytes moved; a chunk or two may be in flight, beats are small
    await waitFor("2 MiB moved", async () => ((await row(id))?.doneBytes ?? 0) >= 2 * 1024 * 1024, 30_000, 50);
    const published = (await publishedByOne()) - publishedBefore;
    // what node two (the runner) has written by now, live (the row is written once a second)
    const live = (await (await fetch(`${two.url}/api/v1/files/transfers/${id}`, { headers: { cookie } })).json()) as { doneBytes: number };
    const moved = live.doneBytes;
    expect(published).toBeGreaterThan(moved * 0.9);
    expect(published).toBeLessThan(moved * 1.15);

    // node two dies without a word; it comes back as a new node (a new id), so two live nodes compete
    await two.kill();
    controller.abort();
    nodes.two = await start("two-again");
    await waitFor("the nodes hear each other", async () => (await nodes.two?.readyz())?.nats?.nodes === 2, 30_000, 200);
    // the dead node's lease runs out (30 s), then one node adopts the transfer
    const taker = await waitFor(
      "taken over",
      async () => {
        const r = await row(id);
        return r?.runner && r.runner !== first ? r.runner : undefined;
      },
      60_000,
      250,
    );
    // from then on the same node drives it to the end: never two at once
    const runners = new Set<string>();
    const done = await waitFor(
      "done",
      async () => {
        const r = await row(id);
        if (r?.runner) runners.add(r.runner);
        return r?.state === "done" ? r : undefined;
      },
      60_000,
      100,
    );
    expect([...runners]).toEqual([taker]);
    expect(done.sha256).toBe(new Bun.CryptoHasher("sha256").update(data).digest("hex"));
    expect(done.doneBytes).toBe(size);
    // one chunk may travel twice at the cut
    expect(done.wireBytes).toBeLessThanOrEqual(size + MAX_CHUNK_BYTES);
    // the lease is given back once the transfer is done
    await waitFor("lease given back", async () => (await row(id))?.runner === null, 10_000, 100);
    const staged = readFileSync(
      join(shared, "files", "downloads", (await sql`select staging_name from file_transfers where id = ${id}`)[0]?.staging_name),
    );
    expect(new Bun.CryptoHasher("sha256").update(staged).digest("hex")).toBe(done.sha256 as string);
  }, 200_000);

  test("an upload that arrives at the node without the agent: its write chunks cross NATS raw to the agent's node, the file lands whole", async () => {
    const two = nodes.two as Node;
    const size = 3 * 1024 * 1024 + 11;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(data.subarray(i, Math.min(size, i + 65_536)));
    // a folder the unprivileged file worker may write
    const into = join(files, "in");
    mkdirSync(into);
    chmodSync(into, 0o777);
    const target = join(into, "uploaded-through-two.bin");
    const published = async () =>
      Number(
        /^sentpulse_cluster_bytes_sent_total (\d+)/m.exec(await (await fetch(`${two.url}/metrics`, { headers: { cookie } })).text())?.[1] ??
          Number.NaN,
      );
    const before = await published();
    const tus = { cookie, origin: two.url, "tus-resumable": "1.0.0" };
    const created = await fetch(`${two.url}/api/v1/devices/${deviceId}/files/uploads`, {
      method: "POST",
      headers: { ...tus, "upload-length": String(size), "upload-metadata": `path ${Buffer.from(target).toString("base64")}` },
    });
    expect(created.status).toBe(201);
    let id = "";
    // tus PATCHes of 1 MiB (the server's body limit)
    for (let at = 0; at < size; at += 1_048_576) {
      const patched = await fetch(`${two.url}${created.headers.get("location")}`, {
        method: "PATCH",
        headers: { ...tus, "upload-offset": String(at), "content-type": "application/offset+octet-stream" },
        body: data.subarray(at, Math.min(size, at + 1_048_576)),
      });
      expect(patched.status).toBe(204);
      id = patched.headers.get("x-transfer-id") ?? id;
    }
    const done = await waitFor(
      "uploaded",
      async () => {
        const r = await row(id);
        if (r?.state === "failed") throw new Error(`the upload failed: ${JSON.stringify(r)}`);
        return r?.state === "done" ? r : undefined;
      },
      60_000,
      100,
    );
    const sha = new Bun.CryptoHasher("sha256").update(data).digest("hex");
    expect(done?.sha256).toBe(sha);
    expect(new Bun.CryptoHasher("sha256").update(readFileSync(target)).digest("hex")).toBe(sha);
    // node two published the chunks raw (base64 would be 4/3 of the file), plus its beats and calls
    const sent = (await published()) - before;
    expect(sent).toBeGreaterThan(size);
    expect(sent).toBeLessThan(size * 1.15);
  }, 120_000);
});
