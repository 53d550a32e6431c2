import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { otherOrganization } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * A site's default bandwidth cap of file transfers (PUT /api/v1/sites/:id {filesRateLimitBps}):
 * set, shown, audited with before and after, refused when out of range or not the organization's;
 * then measured with the real agent: a download without its own cap goes at the site's rate, a
 * change of the site's cap reaches the running transfer, and a transfer's own `rate` overrides it.
 */
let srv: TestServer;
let agent: EnrolledAgent;
let dir: string;
let siteId: string;

type Site = { id: string; filesRateLimitBps: number | null };
const sites = async () => ((await (await srv.api("/api/v1/sites")).json()) as { items: Site[] }).items;
const put = (id: string, body: unknown) => srv.api(`/api/v1/sites/${id}`, { method: "PUT", body });
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: 2, filesDeviceRateBps: 0 });
  agent = await enrollRealAgent(srv);
  agent.start();
  await waitFor(
    "online",
    async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
    60_000,
  );
  const [row] = await srv.sql<{ siteId: string }[]>`select site_id as "siteId" from devices where id = ${agent.deviceId}`;
  siteId = row?.siteId ?? "";
  dir = mkdtempSync("/tmp/sp-site-cap-");
  chmodSync(dir, 0o777);
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  await srv?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Bytes/s the transfer moved over `ms`, from its live progress. */
async function measure(id: string, ms: number): Promise<number> {
  const files = srv.server.services.files;
  const from = { at: performance.now(), bytes: files.live(id)?.doneBytes ?? 0 };
  await Bun.sleep(ms);
  const to = { at: performance.now(), bytes: files.live(id)?.doneBytes ?? 0 };
  return ((to.bytes - from.bytes) / (to.at - from.at)) * 1000;
}

/** Starts a download of a fresh random file (read to the end in the background); its transfer id. */
async function download(name: string, bytes: number, rate?: number): Promise<{ id: string; reading: Promise<void> }> {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65_536) crypto.getRandomValues(data.subarray(i, Math.min(bytes, i + 65_536)));
  const path = join(dir, name);
  writeFileSync(path, data);
  chmodSync(path, 0o644);
  const q = new URLSearchParams({ path, ...(rate ? { rate: String(rate) } : {}) });
  const res = await fetch(`${srv.url}/api/v1/devices/${agent.deviceId}/files/download?${q}`, { headers: { cookie: srv.cookie } });
  expect(res.status).toBe(200);
  const reading = (async () => {
    try {
      for await (const _ of res.body as ReadableStream<Uint8Array>);
    } catch {}
  })();
  return { id: res.headers.get("x-transfer-id") ?? "", reading };
}

describe("a site's default bandwidth cap of file transfers", () => {
  test("set through PUT /api/v1/sites/:id, shown with the site, audited; bad values and other organizations' sites refused", async () => {
    expect((await sites()).find((s) => s.id === siteId)?.filesRateLimitBps).toBeNull();
    expect((await put(siteId, { filesRateLimitBps: 512 * 1024 })).status).toBe(200);
    expect((await sites()).find((s) => s.id === siteId)?.filesRateLimitBps).toBe(512 * 1024);
    const clients = (await (await srv.api("/api/v1/clients")).json()) as { items: { sites: Site[] }[] };
    expect(clients.items.flatMap((c) => c.sites).find((s) => s.id === siteId)?.filesRateLimitBps).toBe(512 * 1024);
    const [audit] = await srv.sql<{ details: unknown; actorName: string }[]>`
      select details, actor_name as "actorName" from audit_log where action = 'site.updated' and target_id = ${siteId} order by id desc limit 1`;
    expect(audit?.details).toEqual({ filesRateLimitBps: { before: null, after: 512 * 1024 } });

    for (const bad of [100, -1, 1.5, "fast", 1e12]) {
      const res = await put(siteId, { filesRateLimitBps: bad });
      expect([bad, res.status]).toEqual([bad, 422]);
      expect(await code(res)).toBe("VALIDATION_FAILED");
    }
    // nothing changed by the refusals
    expect((await sites()).find((s) => s.id === siteId)?.filesRateLimitBps).toBe(512 * 1024);
    const other = await otherOrganization(srv.sql);
    const foreign = await put(other.siteId, { filesRateLimitBps: 4096 });
    expect(foreign.status).toBe(404);
    const [row] = await srv.sql<
      { rate: number | null }[]
    >`select files_rate_limit_bps::float8 as rate from sites where id = ${other.siteId}`;
    expect(row?.rate).toBeNull();
  });

  test("a download without its own cap goes at the site's rate (within 10 %), and follows a change of it while running", async () => {
    const rate = 512 * 1024;
    const { id, reading } = await download("site-capped.bin", 24 * 1024 * 1024);
    await Bun.sleep(2000);
    const bps = await measure(id, 10_000);
    expect(bps).toBeGreaterThan(rate * 0.9);
    expect(bps).toBeLessThan(rate * 1.1);

    // the site's cap raised: the running transfer follows within a few seconds
    expect((await put(siteId, { filesRateLimitBps: 1024 * 1024 })).status).toBe(200);
    await Bun.sleep(7000);
    const faster = await measure(id, 8000);
    expect(faster).toBeGreaterThan(1024 * 1024 * 0.9);
    expect(faster).toBeLessThan(1024 * 1024 * 1.1);
    expect((await srv.api(`/api/v1/files/transfers/${id}/cancel`, { body: {} })).status).toBe(200);
    await reading;
  }, 60_000);

  test("a transfer's own rate overrides the site's default", async () => {
    const own = 2 * 1024 * 1024;
    const { id, reading } = await download("own-rate.bin", 40 * 1024 * 1024, own);
    await Bun.sleep(2000);
    const bps = await measure(id, 8000);
    expect(bps).toBeGreaterThan(own * 0.9);
    expect(bps).toBeLessThan(own * 1.1);
    expect((await srv.api(`/api/v1/files/transfers/${id}/cancel`, { body: {} })).status).toBe(200);
    await reading;
  }, 60_000);

  test("null clears the site's cap", async () => {
    expect((await put(siteId, { filesRateLimitBps: null })).status).toBe(200);
    expect((await sites()).find((s) => s.id === siteId)?.filesRateLimitBps).toBeNull();
  });
});
