import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FileStat } from "../protocol/files.ts";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * Access control lists through the API with the real agent on Linux: the properties carry the POSIX
 * ACL read by Debian's getfacl (entries set here with setfacl), the Windows-only ACL change is
 * refused with its code and audited, and a change with an identity or rights that could smuggle
 * anything is a 422 before the device is asked.
 */
let srv: TestServer;
let agent: EnrolledAgent;
let dir: string;
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: 2 });
  agent = await enrollRealAgent(srv);
  agent.start();
  await waitFor(
    "online",
    async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
    60_000,
  );
  dir = mkdtempSync("/tmp/sp-acl-e2e-");
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, "payroll.csv"), "x");
  chmodSync(join(dir, "payroll.csv"), 0o640);
  const r = Bun.spawnSync(["setfacl", "-m", "u:nobody:rw-,m::r--", join(dir, "payroll.csv")]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  await srv?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const stat = async (path: string, acl: boolean) =>
  srv.api(`/api/v1/devices/${agent.deviceId}/files/stat?${new URLSearchParams({ path, ...(acl ? { acl: "true" } : {}) })}`);

describe("ACLs with the real agent on Linux", () => {
  test("properties with acl=true carry the POSIX ACL, read as the unprivileged account; without it, none", async () => {
    const res = await stat(join(dir, "payroll.csv"), true);
    expect(res.status).toBe(200);
    const s = (await res.json()) as FileStat;
    expect(s.acl?.kind).toBe("posix");
    expect(s.acl?.posix).toContainEqual({ tag: "user", qualifier: "nobody", perms: "rw-", effective: "r--", default: false });
    expect(s.acl?.posix).toContainEqual({ tag: "mask", qualifier: null, perms: "r--", effective: null, default: false });
    expect(s.runAs).toBe("nobody");
    const plain = (await (await stat(join(dir, "payroll.csv"), false)).json()) as FileStat;
    expect(plain.acl).toBeUndefined();
  });

  test("an ACL change on Linux: 409 ACL_UNSUPPORTED, audited with its outcome, the file's ACL untouched", async () => {
    const res = await srv.api(`/api/v1/devices/${agent.deviceId}/files/ops`, {
      body: { op: "acl", path: join(dir, "payroll.csv"), change: { action: "grant", identity: "BUILTIN\\Users", rights: "RX" } },
    });
    expect(res.status).toBe(409);
    expect(await code(res)).toBe("ACL_UNSUPPORTED");
    const [audit] = await srv.sql<{ details: { outcome: string; change: { identity: string } } }[]>`
      select details from audit_log where action = 'file.acl' order by id desc limit 1`;
    expect(audit?.details.outcome).toBe("ACL_UNSUPPORTED");
    expect(audit?.details.change.identity).toBe("BUILTIN\\Users");
    const after = Bun.spawnSync(["getfacl", "--absolute-names", "--omit-header", join(dir, "payroll.csv")]).stdout.toString();
    expect(after).toContain("user:nobody:rw-");
  });

  test("identities, rights and flags outside the patterns: 422 before the device is asked, nothing audited", async () => {
    const before = (await srv.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'file.acl'`)[0]?.n;
    for (const change of [
      { action: "grant", identity: "alice:(F)", rights: "R" },
      { action: "grant", identity: "/T", rights: "R" },
      { action: "grant", identity: "alice", rights: "F) /T (F" },
      { action: "grant", identity: "alice", rights: "R", inheritance: ["XX"] },
      { action: "remove", identity: "a\u0000b" },
      { action: "chmod", identity: "alice" },
    ]) {
      const res = await srv.api(`/api/v1/devices/${agent.deviceId}/files/ops`, {
        body: { op: "acl", path: join(dir, "payroll.csv"), change },
      });
      expect([JSON.stringify(change), res.status]).toEqual([JSON.stringify(change), 422]);
    }
    const after = (await srv.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'file.acl'`)[0]?.n;
    expect(after).toBe(before);
  });
});
