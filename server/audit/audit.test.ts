import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { organization, otherOrganization } from "../testing/fixtures.ts";
import { ADMIN, login, startTestServer, type TestServer } from "../testing/harness.ts";
import { applyAuditRetention } from "./retention.ts";

interface Entry {
  id: string;
  createdAt: string;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  ip: string | null;
}
interface Page {
  items: Entry[];
  nextCursor: string | null;
  total: number;
  totalExact: boolean;
}

let srv: TestServer;
let orgId: string;
let other: Awaited<ReturnType<typeof otherOrganization>>;
const alice = crypto.randomUUID();
const ci = crypto.randomUUID();
const scriptId = crypto.randomUUID();
const T0 = new Date("2026-03-01T10:00:00Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** An entry written straight into the table (the tests need chosen times and actors). */
async function seed(e: {
  org?: string | null;
  actorType?: string;
  actorId?: string | null;
  actorName?: string | null;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  details?: Record<string, unknown>;
  createdAt?: Date;
}) {
  await srv.sql`
    insert into audit_log (organization_id, actor_type, actor_id, actor_name, action, target_type, target_id, details, created_at)
    values (${e.org === undefined ? orgId : e.org}, ${e.actorType ?? "user"}, ${e.actorId ?? null}, ${e.actorName ?? null}, ${e.action},
            ${e.targetType ?? null}, ${e.targetId ?? null}, ${srv.sql.json((e.details ?? {}) as never)}, ${e.createdAt ?? new Date()})`;
}

const countAction = async (action: string) =>
  (await srv.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = ${action}`)[0]?.n ?? -1;

const page = async (query: string, cookie?: string): Promise<Page> => {
  const res = cookie ? await fetch(`${srv.url}/api/v1/audit?${query}`, { headers: { cookie } }) : await srv.api(`/api/v1/audit?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
};

beforeAll(async () => {
  srv = await startTestServer();
  const [admin] = await srv.sql<{ orgId: string }[]>`select organization_id as "orgId" from users where email = ${ADMIN.email}`;
  orgId = admin?.orgId ?? "";
  other = await otherOrganization(srv.sql);
  for (let i = 0; i < 5; i++) await seed({ actorId: alice, actorName: "Alice@Example.com", action: "command.reboot", createdAt: at(i) });
  for (let i = 0; i < 3; i++)
    await seed({
      actorType: "api_key",
      actorId: ci,
      actorName: "nightly-ci",
      action: "script.updated",
      targetType: "script",
      targetId: scriptId,
      createdAt: at(10 + i),
    });
  await seed({ actorId: alice, actorName: "Alice@Example.com", action: "commandeer.x", createdAt: at(20) });
  await seed({ actorName: "50%off", action: "user.updated", createdAt: at(21) });
  await seed({ org: other.organizationId, actorId: alice, actorName: "Alice@Example.com", action: "command.reboot", createdAt: at(2) });
}, 120_000);
afterAll(() => srv.stop());

describe("audit list: filters and paging", () => {
  test("an action prefix pages newest first with a cursor, totals the match and ends with a null cursor", async () => {
    const seen: Entry[] = [];
    let cursor = "";
    for (let i = 0; i < 3; i++) {
      const p = await page(`action=command.&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(p.total).toBe(5);
      seen.push(...p.items);
      if (!p.nextCursor) break;
      cursor = p.nextCursor;
    }
    expect(seen.map((e) => e.createdAt)).toEqual([4, 3, 2, 1, 0].map((m) => at(m).toISOString()));
    expect(new Set(seen.map((e) => e.id)).size).toBe(5);
    expect((await page(`action=command.*&limit=5`)).nextCursor).toBeNull();
    expect((await page("action=command")).total).toBe(0);
  });

  test("actor by id or by a case-insensitive part of the name (wildcards taken literally), actor type, target, time range", async () => {
    expect((await page(`actor=${alice}`)).total).toBe(6);
    expect((await page("actor=alice%40EXAMPLE")).total).toBe(6);
    expect((await page("actor=%25")).items.map((e) => e.actorName)).toEqual(["50%off"]);
    expect((await page("actor=_")).total).toBe(0);
    const byKey = await page("actorType=api_key");
    expect(byKey.items.map((e) => e.actorName)).toEqual(["nightly-ci", "nightly-ci", "nightly-ci"]);
    expect((await page(`targetType=script&targetId=${scriptId}`)).total).toBe(3);
    const window = await page(`from=${at(1).toISOString()}&to=${at(11).toISOString()}`);
    expect(window.items.map((e) => e.action)).toEqual([
      "script.updated",
      "command.reboot",
      "command.reboot",
      "command.reboot",
      "command.reboot",
    ]);
    expect(window.items[0]).toMatchObject({ actorType: "api_key", actorId: ci, targetType: "script", targetId: scriptId, details: {} });
  });

  test("a big log is counted up to 10,000 on the first page (totalExact false past it), and later pages carry that count", async () => {
    // another organization with a year's worth of one action: 10,050 entries
    const busy = await otherOrganization(srv.sql);
    const big = busy.organizationId;
    await srv.sql`
      insert into audit_log (organization_id, actor_type, actor_name, action, details, created_at)
      select ${big}, 'schedule', 'nightly', 'command.run', '{}'::jsonb, ${T0}::timestamptz + make_interval(secs => g)
      from generate_series(1, 10050) g`;
    const cookie = await login(srv.url, busy.email, busy.password);
    const first = await page("limit=100", cookie);
    expect(first.total).toBe(10_000);
    expect(first.totalExact).toBe(false);
    // the count rides in the cursor: more entries now do not change what the next page says
    await srv.sql`insert into audit_log (organization_id, actor_type, action, details) values (${big}, 'schedule', 'command.run', '{}'::jsonb)`;
    const second = await page(`limit=100&cursor=${first.nextCursor}`, cookie);
    expect(second.total).toBe(10_000);
    expect(second.totalExact).toBe(false);
    expect(BigInt(second.items[0]!.id) < BigInt(first.items.at(-1)!.id)).toBe(true);
    // a narrow filter is counted exactly
    const narrow = await page("action=command.run&from=2026-03-01T10:00:00Z&to=2026-03-01T10:00:06Z", cookie);
    expect(narrow.total).toBe(5);
    expect(narrow.totalExact).toBe(true);
    // a cursor issued before the count rode in it (only the id) still pages, and that page counts
    const old = Buffer.from(JSON.stringify({ i: first.items.at(-1)!.id })).toString("base64url");
    const fromOld = await page(`limit=100&cursor=${old}`, cookie);
    expect(fromOld.items[0]!.id).toBe(second.items[0]!.id);
    expect(fromOld.total).toBe(10_000);
    // a count forged past the cap is not believed: that page counts again
    const forged = Buffer.from(JSON.stringify({ i: first.items.at(-1)!.id, n: 99_999_999, x: 1 })).toString("base64url");
    expect((await page(`limit=100&cursor=${forged}`, cookie)).total).toBe(10_000);
  });

  test("newest first across a power of ten of ids: every entry once, in order (ids are compared as numbers, not text)", async () => {
    const busy = await otherOrganization(srv.sql);
    const [{ max }] = (await srv.sql`select coalesce(max(id), 0)::int as max from audit_log`) as unknown as [{ max: number }];
    const boundary = 10 ** Math.ceil(Math.log10(max + 10));
    await srv.sql`select setval(pg_get_serial_sequence('audit_log', 'id'), ${boundary - 4})`;
    for (let i = 0; i < 7; i++) await seed({ org: busy.organizationId, action: `user.updated`, actorName: `n${i}` });
    const cookie = await login(srv.url, busy.email, busy.password);
    const seen: Entry[] = [];
    let cursor = "";
    for (let i = 0; i < 10; i++) {
      const p = await page(`action=user.updated&limit=2${cursor ? `&cursor=${cursor}` : ""}`, cookie);
      seen.push(...p.items);
      if (!p.nextCursor) break;
      cursor = p.nextCursor;
    }
    expect(seen.map((e) => e.actorName)).toEqual(["n6", "n5", "n4", "n3", "n2", "n1", "n0"]);
    expect(seen.map((e) => BigInt(e.id))).toEqual(Array.from({ length: 7 }, (_, i) => BigInt(boundary + 3 - i)));
    // the CSV export, newest first too
    const csv = await (await fetch(`${srv.url}/api/v1/audit?format=csv&action=user.updated`, { headers: { cookie } })).text();
    expect([...csv.matchAll(/,n(\d),/g)].map((m) => m[1])).toEqual(["6", "5", "4", "3", "2", "1", "0"]);
  });

  test("bad input is refused with a code", async () => {
    const cursor = await srv.api("/api/v1/audit?cursor=not-ours");
    expect(cursor.status).toBe(400);
    expect(((await cursor.json()) as { error: { code: string } }).error.code).toBe("INVALID_CURSOR");
    const range = await srv.api(`/api/v1/audit?from=${at(5).toISOString()}&to=${at(1).toISOString()}`);
    expect(((await range.json()) as { error: { code: string } }).error.code).toBe("INVALID_RANGE");
    for (const q of ["actorType=robot", "targetId=x", "from=yesterday", "limit=0", "format=xml"])
      expect((await srv.api(`/api/v1/audit?${q}`)).status).toBe(422);
  });
});

describe("audit list: tenancy and roles", () => {
  test("another organization's entries are never listed, and its owner sees only its own", async () => {
    const [mine] = await srv.sql<{ n: number }[]>`select count(*)::int as n from audit_log where organization_id = ${orgId}`;
    expect((await page("limit=500")).total).toBe(mine?.n ?? -1);
    expect((await page(`actor=${alice}&action=command.reboot`)).total).toBe(5);
    const theirs = await page(`actor=${alice}`, await login(srv.url, other.email, other.password));
    expect(theirs.items.map((e) => e.createdAt)).toEqual([at(2).toISOString()]);
  });

  test("read-only users and technicians get 403", async () => {
    for (const role of ["readonly", "technician"]) {
      const email = `${role}-audit@example.com`;
      const password = "Audit-test passphrase 2026";
      expect((await srv.api("/api/v1/users", { body: { email, role, password } })).status).toBe(201);
      const res = await fetch(`${srv.url}/api/v1/audit`, { headers: { cookie: await login(srv.url, email, password) } });
      expect(res.status).toBe(403);
    }
  });
});

/** RFC 4180 rows of a CSV text (quoted cells, doubled quotes, CRLF line ends). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted && c === '"') {
      quoted = false;
    } else if (quoted) {
      cell += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === "," || (c === "\r" && text[i + 1] === "\n")) {
      row.push(cell);
      cell = "";
      if (c === "\r") {
        rows.push(row);
        row = [];
        i++;
      }
    } else {
      cell += c;
    }
  }
  return rows;
}

describe("CSV export", () => {
  test("streams the whole match as CSV: escaped cells, formulas neutralised, headers for a download", async () => {
    const nasty = '=HYPERLINK("http://evil.example","click")';
    await seed({ actorName: nasty, action: "csv.test", details: { note: 'comma, "quote"\nnew line' }, createdAt: at(30) });
    await seed({ actorName: "+1 mallory", action: "csv.test", targetType: "-x", details: {}, createdAt: at(31) });
    await seed({ actorName: "@SUM(A1)", action: "csv.test", createdAt: at(32) });
    const res = await srv.api("/api/v1/audit?action=csv.&format=csv&limit=1");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="sentpulse-audit-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(res.headers.get("x-total-count")).toBe("3");
    expect(res.headers.get("content-security-policy")).toContain("default-src");
    const rows = parseCsv(await res.text());
    expect(rows[0]).toEqual(["time", "actor_type", "actor_id", "actor_name", "action", "target_type", "target_id", "ip", "details"]);
    expect(rows.slice(1).map((r) => [r[0], r[3], r[4], r[5]])).toEqual([
      [at(32).toISOString(), "'@SUM(A1)", "csv.test", ""],
      [at(31).toISOString(), "'+1 mallory", "csv.test", "'-x"],
      [at(30).toISOString(), `'${nasty}`, "csv.test", ""],
    ]);
    expect(JSON.parse(rows[3]?.[8] ?? "")).toEqual({ note: 'comma, "quote"\nnew line' });
  });

  test("another organization's entries stay out of the export too", async () => {
    const rows = parseCsv(await (await srv.api(`/api/v1/audit?actor=${alice}&format=csv`)).text());
    expect(rows.length).toBe(1 + 6);
  });
});

describe("append-only", () => {
  test("the database refuses UPDATE, DELETE and TRUNCATE of audit rows", async () => {
    const refused = async (q: Promise<unknown>) => {
      try {
        await q;
        return "";
      } catch (err) {
        return String(err);
      }
    };
    expect(await refused(srv.sql`update audit_log set action = 'forged' where organization_id = ${orgId}`)).toContain("append-only");
    expect(await refused(srv.sql`delete from audit_log where organization_id = ${orgId}`)).toContain("append-only");
    expect(await refused(srv.sql`truncate audit_log`)).toContain("append-only");
    expect(await countAction("forged")).toBe(0);
  });

  test("an organization's entries go with it (the cascade), no one else's", async () => {
    const { organizationId } = await organization(srv.sql, "Short-lived MSP");
    await seed({ org: organizationId, action: "gone.with.org" });
    const [before] = await srv.sql<
      { n: number }[]
    >`select count(*)::int as n from audit_log where organization_id is distinct from ${organizationId}`;
    await srv.sql`delete from organizations where id = ${organizationId}`;
    expect(await countAction("gone.with.org")).toBe(0);
    const [after] = await srv.sql<
      { n: number }[]
    >`select count(*)::int as n from audit_log where organization_id is distinct from ${organizationId}`;
    expect(after?.n).toBe(before?.n ?? -1);
  });

  test("the retention job deletes only entries older than the retention, and says so", async () => {
    const now = new Date();
    const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
    await seed({ action: "retention.400d", createdAt: daysAgo(400) });
    await seed({ action: "retention.100d", createdAt: daysAgo(100) });
    await seed({ action: "retention.1d", createdAt: daysAgo(1) });
    const left = async () =>
      (await srv.sql<{ action: string }[]>`select action from audit_log where action like 'retention.%' order by action`).map(
        (r) => r.action,
      );
    expect(await applyAuditRetention(srv.sql, 365, now)).toBe(1);
    expect(await left()).toEqual(["retention.100d", "retention.1d"]);
    expect(await applyAuditRetention(srv.sql, 90, now)).toBeGreaterThanOrEqual(1);
    expect(await left()).toEqual(["retention.1d"]);
    const [pruned] = await srv.sql`select actor_type, details from audit_log where action = 'audit.pruned' order by id desc limit 1`;
    expect(pruned).toMatchObject({ actor_type: "system", details: { olderThanDays: 90 } });
    const [setting] = await srv.sql<{ s: string | null }[]>`select current_setting('sentpulse.audit_retention', true) as s`;
    expect(setting?.s).not.toBe("on");
  });
});

describe("before/after details", () => {
  const withCookie = (path: string, method: string, body: unknown) =>
    fetch(`${srv.url}${path}`, {
      method,
      headers: { cookie: srv.cookie, "content-type": "application/json", origin: srv.url },
      body: JSON.stringify(body),
    });
  const latest = async (action: string, targetId: string) =>
    (
      await srv.sql<{ details: Record<string, unknown>; ip: string | null }[]>`
        select details, ip from audit_log where action = ${action} and target_id = ${targetId} order by id desc limit 1`
    )[0];

  test("a script update names the changed fields with a short before/after (long values cut) and the source address", async () => {
    const created = await srv.api("/api/v1/scripts", { body: { name: "cleanup", language: "bash", content: "echo old", tags: ["a"] } });
    const { id } = (await created.json()) as { id: string };
    const content = `echo ${"x".repeat(500)}`;
    const res = await withCookie(`/api/v1/scripts/${id}`, "PUT", { name: "cleanup v2", language: "bash", content, tags: ["a"] });
    expect(res.status).toBe(200);
    const entry = await latest("script.updated", id);
    expect(entry?.ip).toBe("127.0.0.1");
    const changes = entry?.details.changes as Record<string, { before: unknown; after: string }>;
    expect(Object.keys(changes).sort()).toEqual(["content", "name"]);
    expect(changes.name).toEqual({ before: "cleanup", after: "cleanup v2" });
    expect(changes.content?.before).toBe("echo old");
    expect(changes.content?.after).toHaveLength(160);
    expect(changes.content?.after).toEndWith("…");
  });

  test("alert rule and user updates carry their changes too", async () => {
    const rule = { name: "CPU busy", metric: "cpu_percent", operator: ">", threshold: 80, severity: "warning" };
    const { id: ruleId } = (await (await srv.api("/api/v1/alert-rules", { body: rule })).json()) as { id: string };
    expect((await withCookie(`/api/v1/alert-rules/${ruleId}`, "PUT", { ...rule, threshold: 90, enabled: false })).status).toBe(200);
    expect((await latest("alert_rule.updated", ruleId))?.details.changes).toEqual({
      threshold: { before: 80, after: 90 },
      enabled: { before: true, after: false },
    });
    const body = { email: "tess@example.com", role: "technician", password: "Audit-test passphrase 2026" };
    const { id: userId } = (await (await srv.api("/api/v1/users", { body })).json()) as { id: string };
    expect((await withCookie(`/api/v1/users/${userId}`, "PATCH", { role: "readonly", name: "Tess" })).status).toBe(200);
    expect((await latest("user.updated", userId))?.details).toEqual({
      email: "tess@example.com",
      changes: { role: { before: "technician", after: "readonly" }, name: { before: "", after: "Tess" } },
    });
  });
});
