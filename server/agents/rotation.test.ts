import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Sql } from "postgres";
import { setLogLevel } from "../log.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import { signBody, signingKey } from "../protocol/signing.ts";
import { device, organization } from "../testing/fixtures.ts";
import { testSql } from "../testing/harness.ts";
import { batchedKeyLookup, beginRotation, verifyDevice } from "./credentials.ts";
import { AgentHub } from "./hub.ts";
import { rotateSecret } from "./rotation.ts";

setLogLevel("error");
let sql: Sql;
let org: { organizationId: string; siteId: string };
beforeAll(async () => {
  sql = await testSql();
  org = await organization(sql);
});
afterAll(() => sql.end());

const DAY_S = 86_400;

/** A hub holding one fake socket for the device; `answer` decides the agent's reply to a rotate_secret call. */
function connected(deviceId: string, answer: (secret: string) => boolean) {
  const agents = new AgentHub(() => ({ telemetryIntervalS: 5, beaconIntervalS: 60 }));
  const offered: string[] = [];
  agents.add({
    deviceId,
    organizationId: org.organizationId,
    send: (f: ServerFrame) => {
      if (f.type !== "rotate_secret") return;
      offered.push(f.data.secret);
      queueMicrotask(() => agents.settle(deviceId, f.id, answer(f.data.secret) ? { ok: true } : { ok: false, code: "PERSIST_FAILED" }));
    },
    close: () => {},
  });
  return { agents, offered };
}

const keys = async (id: string) =>
  (
    await sql<{ current: Buffer; pending: Buffer | null }[]>`
      select secret_hash as current, pending_secret_hash as pending from devices where id = ${id}`
  )[0]!;

async function signedBy(deviceId: string, secret: string) {
  const t = Date.now();
  return verifyDevice(sql, batchedKeyLookup(sql, DAY_S), deviceId, t, "hello", signBody(signingKey(secret), t, "hello"));
}

describe("key lookups shared by one event-loop turn", () => {
  test("handshakes of one turn are looked up together: a malformed or unknown id fails only itself, case does not matter", async () => {
    const [a, b] = await Promise.all([device(sql, { ...org, secret: "ka" }), device(sql, { ...org, secret: "kb" })]);
    const lookup = batchedKeyLookup(sql, DAY_S);
    const t = Date.now();
    const sign = (secret: string) => signBody(signingKey(secret), t, "hello");
    const results = await Promise.all([
      verifyDevice(sql, lookup, a, t, "hello", sign("ka")),
      // the handshake's pattern lets 36 dashes and hex through: not a uuid the database takes
      verifyDevice(sql, lookup, "-".repeat(36), t, "hello", sign("ka")),
      verifyDevice(sql, lookup, Bun.randomUUIDv7(), t, "hello", sign("ka")),
      verifyDevice(sql, lookup, b.toUpperCase(), t, "hello", sign("kb")),
      verifyDevice(sql, lookup, b, t, "hello", sign("ka")),
    ]);
    expect(results).toEqual([
      expect.objectContaining({ id: a }),
      "unknown_device",
      "unknown_device",
      expect.objectContaining({ id: b }),
      "bad_signature",
    ]);
  });
});

describe("key lookups while one runs", () => {
  test("the lookups of later turns gather while a statement runs and go together when it ends", async () => {
    const ids = await Promise.all(["k0", "k1", "k2", "k3"].map((secret) => device(sql, { ...org, secret })));
    // the real database, one statement held until let go, every statement's ids recorded
    const statements: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const counted = new Proxy(sql, {
      apply(target, self, args) {
        const q = Reflect.apply(target, self, args) as Promise<unknown>;
        if (!(Array.isArray(args[0]) && (args[0] as string[]).join("").includes("device_signing_keys("))) return q;
        statements.push((args[1] as string[]).length);
        return statements.length === 1
          ? q.then(async (rows) => {
              await gate;
              return rows;
            })
          : q;
      },
    });
    const lookup = batchedKeyLookup(counted, DAY_S);
    const first = lookup(ids[0]!);
    await Bun.sleep(20); // the first statement runs (held)
    const later = [lookup(ids[1]!), new Promise((r) => setImmediate(r)).then(() => lookup(ids[2]!))];
    await Bun.sleep(20);
    later.push(lookup(ids[3]!));
    await Bun.sleep(20);
    expect(statements).toEqual([1]); // three turns' lookups wait for the running statement
    release();
    const found = await Promise.all([first, ...later]);
    expect(found.map((k) => (k as { id: string } | undefined)?.id)).toEqual(ids);
    expect(statements).toEqual([1, 3]);
  });
});

describe("secret rotation", () => {
  test("over the socket: the key the agent persisted becomes current, the old one still signs for a grace period", async () => {
    const id = await device(sql, { ...org, secret: "s0" });
    const { agents, offered } = connected(id, () => true);
    expect(await rotateSecret({ sql, agents }, id)).toBe(true);
    expect(offered).toHaveLength(1);
    const k = await keys(id);
    expect(k.current.equals(signingKey(offered[0]!))).toBe(true);
    expect(k.pending).toBeNull();
    expect(await signedBy(id, offered[0]!)).toMatchObject({ id });
    expect(await signedBy(id, "s0")).toMatchObject({ id });
  });

  test("a beacon's offer and a socket's racing: the socket offers nothing while the beacon's secret is in flight, which completes when used", async () => {
    const id = await device(sql, { ...org, secret: "s0" });
    const beacon = await beginRotation(sql, id);
    expect(beacon).toBeDefined();
    const { agents, offered } = connected(id, () => true);
    expect(await rotateSecret({ sql, agents }, id)).toBe(false);
    expect(offered).toHaveLength(0);
    expect(await beginRotation(sql, id)).toBeUndefined();
    // the agent kept the beacon's secret: its next signature completes the rotation
    expect(await signedBy(id, beacon!.secret)).toMatchObject({ id, rotationDue: false });
    const k = await keys(id);
    expect(k.current.equals(beacon!.key)).toBe(true);
    expect(k.pending).toBeNull();
  });

  test("an answer for a key that is no longer pending completes nothing", async () => {
    const id = await device(sql, { ...org, secret: "s0" });
    // the agent answers only after the offer went stale and another replaced it
    const { agents } = connected(id, () => true);
    const original = agents.call.bind(agents);
    agents.call = async (...args: Parameters<AgentHub["call"]>) => {
      await sql`update devices set pending_secret_at = now() - interval '1 hour' where id = ${id}`;
      await beginRotation(sql, id);
      return original(...args);
    };
    expect(await rotateSecret({ sql, agents }, id)).toBe(true);
    const k = await keys(id);
    expect(k.current.equals(signingKey("s0"))).toBe(true);
    expect(k.pending).not.toBeNull();
  });

  test("an offer never taken up blocks others for two minutes, then is replaced", async () => {
    const id = await device(sql, { ...org, secret: "s0" });
    const first = await beginRotation(sql, id);
    expect(await beginRotation(sql, id)).toBeUndefined();
    await sql`update devices set pending_secret_at = now() - interval '121 seconds' where id = ${id}`;
    const second = await beginRotation(sql, id);
    expect(second).toBeDefined();
    expect((await keys(id)).pending?.equals(second!.key)).toBe(true);
    expect(await signedBy(id, first!.secret)).toBe("bad_signature");
    expect(await signedBy(id, "s0")).toMatchObject({ id });
  });

  test("a refused persist leaves the current secret in place", async () => {
    const id = await device(sql, { ...org, secret: "s0" });
    const { agents } = connected(id, () => false);
    expect(await rotateSecret({ sql, agents }, id)).toBe(false);
    expect((await keys(id)).current.equals(signingKey("s0"))).toBe(true);
  });
});
