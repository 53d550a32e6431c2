import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { facts, otherOrganization, rawToken } from "../testing/fixtures.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
let orgId: string;
let siteId: string;
beforeAll(async () => {
  srv = await startTestServer();
  const [row] = await srv.sql<{ organizationId: string; siteId: string }[]>`
    select s.organization_id as "organizationId", s.id as "siteId" from sites s limit 1`;
  orgId = row!.organizationId;
  siteId = row!.siteId;
}, 120_000);
afterAll(() => srv.stop());

const enroll = (body: unknown) =>
  fetch(`${srv.url}/api/agent/v1/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("enrollment tokens", () => {
  test("a new token comes with install one-liners for every OS, served by this server", async () => {
    const res = await srv.api("/api/v1/enrollment-tokens", { body: { maxUses: 5, tags: ["role=server", "critical"] } });
    expect(res.status).toBe(201);
    const t = (await res.json()) as { token: string; install: Record<string, string>; maxUses: number; tags: string[] };
    expect(t.token).toStartWith("spe_");
    expect(t.install.linux).toContain(`${srv.url}/install.sh`);
    expect(t.install.linux).toContain(t.token);
    expect(t.install.macos).toContain(t.token);
    expect(t.install.windows).toContain(`${srv.url}/install.ps1`);
    expect(t.tags).toEqual(["role=server", "critical"]);
    const sh = await fetch(`${srv.url}/install.sh`);
    expect(await sh.text()).toContain(`SERVER='${srv.url}'`);
    const list = await (await srv.api("/api/v1/enrollment-tokens")).text();
    expect(list).not.toContain(t.token);
  });

  test("bad token bodies are 422", async () => {
    for (const body of [{ maxUses: 0 }, { maxUses: "3" }, { expiresInMinutes: -1 }, { tags: ["has space"] }, { siteId: "not-a-uuid" }]) {
      const res = await srv.api("/api/v1/enrollment-tokens", { body });
      expect(res.status).toBe(422);
    }
  });

  test("another organization's site is refused", async () => {
    const other = await otherOrganization(srv.sql);
    const res = await srv.api("/api/v1/enrollment-tokens", { body: { siteId: other.siteId } });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("SITE_NOT_FOUND");
  });
});

describe("agent enrollment", () => {
  test("a valid token gives a device id and a secret; only a key derived from it is stored", async () => {
    const token = await rawToken(srv.sql, orgId, siteId);
    const res = await enroll({ token, agentVersion: "1.0.0", facts: facts("enroll-ok"), tags: ["env=test"] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { deviceId: string; secret: string; settings: { telemetryIntervalS: number } };
    expect(body.secret.length).toBeGreaterThan(30);
    expect(body.settings.telemetryIntervalS).toBeGreaterThan(0);
    const [row] = await srv.sql`select secret_hash, tags, hostname from devices where id = ${body.deviceId}`;
    expect(row?.hostname).toBe("enroll-ok");
    expect(row?.tags).toEqual(["env=test"]);
    expect(Buffer.from(row?.secret_hash).toString("utf8")).not.toContain(body.secret);
    const [audit] = await srv.sql`select action from audit_log where target_id = ${body.deviceId}`;
    expect(audit?.action).toBe("device.enrolled");
  });

  test("expired, used-up, revoked and unknown tokens are refused with their own codes", async () => {
    const expired = await rawToken(srv.sql, orgId, siteId, { expiresAt: new Date(Date.now() - 1000) });
    const usedUp = await rawToken(srv.sql, orgId, siteId, { maxUses: 1, uses: 1 });
    const revoked = await rawToken(srv.sql, orgId, siteId);
    await srv.sql`update enrollment_tokens set revoked_at = now() where prefix = 'spe_' and revoked_at is null and uses = 0 and max_uses is null and expires_at > now()`;
    const cases: [string, number, string][] = [
      [expired, 410, "ENROLLMENT_TOKEN_EXPIRED"],
      [usedUp, 410, "ENROLLMENT_TOKEN_USED_UP"],
      [revoked, 410, "ENROLLMENT_TOKEN_REVOKED"],
      ["spe_never-issued", 401, "ENROLLMENT_TOKEN_INVALID"],
    ];
    for (const [token, status, code] of cases) {
      const res = await enroll({ token, agentVersion: "1.0.0", facts: facts(), tags: [] });
      expect(res.status).toBe(status);
      expect(await errorCode(res)).toBe(code);
    }
  });

  test("a token with max uses 2 enrolls exactly two devices, even when raced", async () => {
    const token = await rawToken(srv.sql, orgId, siteId, { maxUses: 2 });
    const results = await Promise.all([1, 2, 3, 4].map(() => enroll({ token, agentVersion: "1.0.0", facts: facts(), tags: [] })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 410, 410]);
  });

  test("malformed enrollment bodies are 422 and enroll nothing", async () => {
    const token = await rawToken(srv.sql, orgId, siteId);
    const [before] = await srv.sql<{ n: number }[]>`select count(*)::int as n from devices`;
    const bad = [
      {},
      { token, agentVersion: "1", facts: { ...facts(), os: "plan9" }, tags: [] },
      { token, agentVersion: "1", facts: { ...facts(), hostname: "" }, tags: [] },
      { token, agentVersion: 5, facts: facts(), tags: [] },
      { token, agentVersion: "1", facts: facts(), tags: "x" },
      { token, agentVersion: "1", facts: { ...facts(), nics: Array.from({ length: 100 }, () => facts().nics[0]) }, tags: [] },
    ];
    for (const body of bad) expect((await enroll(body)).status).toBe(422);
    const [after] = await srv.sql<{ n: number }[]>`select count(*)::int as n from devices`;
    expect(after?.n).toBe(before?.n);
  });

  test("a body over 1 MiB is refused with 413", async () => {
    const res = await fetch(`${srv.url}/api/agent/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"token":"${"x".repeat(2 * 1024 * 1024)}"}`,
    });
    expect(res.status).toBe(413);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });
});

describe("enrollment rate limit", () => {
  test("many good enrollments from one address pass; repeated bad tokens are limited with 429", async () => {
    const token = await rawToken(srv.sql, orgId, siteId, { maxUses: 50 });
    const ok = await Promise.all(Array.from({ length: 40 }, () => enroll({ token, agentVersion: "1", facts: facts(), tags: [] })));
    expect(ok.every((r) => r.status === 200)).toBe(true);
    let last = 0;
    for (let i = 0; i < 25; i++) last = (await enroll({ token: `spe_bad_${i}`, agentVersion: "1", facts: facts(), tags: [] })).status;
    expect(last).toBe(429);
  });
});
