import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";
import { ensureJournal } from "../testing/journald.ts";

/**
 * The endpoint toolbox against the real compiled agent on this machine: processes (find a sleep
 * the test started, kill it, see it gone; a whole tree), a real SysV init script (atd, from the
 * Debian package `at`: systemd is not PID 1 here), journal errors written with logger(1) into a
 * systemd-journald the test starts when none runs, and the agent's environment.
 */
let srv: TestServer;
let agent: EnrolledAgent;
const MARK = `mark-${crypto.randomUUID().slice(0, 8)}`;
const children: Subprocess[] = [];

type Proc = { pid: number; ppid: number; name: string; user: string; cpuPercent: number; memoryBytes: number; command: string };
const base = () => `/api/v1/devices/${agent.deviceId}`;
const json = async <T>(res: Response | Promise<Response>) => (await (await res).json()) as T;
const processes = async () => (await json<{ items: Proc[] }>(srv.api(`${base()}/processes`))).items;
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
const audits = (action: string) =>
  srv.sql<{ actorName: string; details: Record<string, unknown> }[]>`
    select actor_name as "actorName", details from audit_log where action = ${action} and target_id = ${agent.deviceId} order by id`;

beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: 2 });
  agent = await enrollRealAgent(srv);
  process.env.SENTPULSE_TOOLBOX_MARK = MARK; // inherited by the agent
  agent.start();
  delete process.env.SENTPULSE_TOOLBOX_MARK;
  await waitFor(
    "online",
    async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
    30_000,
  );
}, 120_000);
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await agent?.stop();
  await srv?.stop();
});

describe("processes on the real agent", () => {
  test("lists a sleep the test started (pid, parent, user, memory, command), kills it with SIGKILL, it is gone, audited", async () => {
    const sleeper = Bun.spawn(["sleep", "4242"]);
    children.push(sleeper);
    const list = await processes();
    expect(list.length).toBeGreaterThan(5);
    const mine = list.find((p) => p.pid === sleeper.pid);
    expect(mine).toMatchObject({ name: "sleep", ppid: process.pid, user: "root", command: "sleep 4242" });
    expect(mine?.memoryBytes).toBeGreaterThan(0);
    expect(list.find((p) => p.pid === process.pid)?.cpuPercent).toBeGreaterThanOrEqual(0);

    const res = await srv.api(`${base()}/processes/${sleeper.pid}/kill`, { body: { signal: "KILL" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ killed: [sleeper.pid], name: "sleep" });
    expect(await sleeper.exited).toBe(137);
    expect(sleeper.signalCode).toBe("SIGKILL");
    expect((await processes()).some((p) => p.pid === sleeper.pid)).toBe(false);
    const [a] = await audits("process.kill");
    expect(a).toMatchObject({
      actorName: "admin@example.com",
      details: { pid: sleeper.pid, signal: "KILL", name: "sleep", outcome: "ok" },
    });
  });

  test("kill with tree: a shell and its two sleeping children all end", async () => {
    const sh = Bun.spawn(["bash", "-c", "sleep 4343 & sleep 4344 & wait"]);
    children.push(sh);
    const kids = await waitFor("children", async () => {
      const k = (await processes()).filter((p) => p.ppid === sh.pid);
      return k.length === 2 ? k : undefined;
    });
    const res = await json<{ killed: number[] }>(srv.api(`${base()}/processes/${sh.pid}/kill`, { body: { tree: true } }));
    expect([...res.killed].sort()).toEqual([sh.pid, ...kids.map((k) => k.pid)].sort());
    expect(res.killed.at(-1)).toBe(sh.pid); // children first
    await sh.exited;
    await waitFor("children gone", async () => kids.every((k) => !alive(k.pid)), 5000);
  });

  test("bad input: an unknown pid → 404, a malformed one → 422, pid 1 and the agent itself → 409; nothing killed", async () => {
    const before = (await audits("process.kill")).length;
    const unknown = await srv.api(`${base()}/processes/4000000/kill`, { body: {} });
    expect(unknown.status).toBe(404);
    expect((await json<{ error: { code: string } }>(unknown)).error.code).toBe("PROCESS_NOT_FOUND");
    for (const bad of ["abc", "0", "-1", "1;reboot", "99999999"]) {
      const res = await srv.api(`${base()}/processes/${encodeURIComponent(bad)}/kill`, { body: {} });
      expect([bad, res.status]).toEqual([bad, 422]);
    }
    const badSignal = await srv.api(`${base()}/processes/1/kill`, { body: { signal: "TERM; reboot" } });
    expect(badSignal.status).toBe(422);
    const init = await srv.api(`${base()}/processes/1/kill`, { body: {} });
    expect(init.status).toBe(409);
    expect((await json<{ error: { code: string } }>(init)).error.code).toBe("PROTECTED_PROCESS");
    const agentPid = (await processes()).find((p) => p.command.includes(agent.configPath))?.pid;
    const self = await srv.api(`${base()}/processes/${agentPid}/kill`, { body: { signal: "KILL" } });
    expect(self.status).toBe(409);
    expect(alive(agentPid ?? 0)).toBe(true);
    // refused on the agent: audited with the outcome; refused by validation: never reached it
    expect((await audits("process.kill")).slice(before).map((a) => a.details.outcome)).toEqual([
      "PROCESS_NOT_FOUND",
      "PROTECTED_PROCESS",
      "PROTECTED_PROCESS",
    ]);
  });
});

describe("the agent checks toolbox frames itself", () => {
  test("a frame that skipped the server's checks (a service name with a shell command) is refused by the agent: nothing runs", async () => {
    const marker = `/tmp/sentpulse-injected-${MARK}`;
    const call = (data: unknown) =>
      srv.server.services.agents.call(
        agent.deviceId,
        { type: "toolbox", data } as Parameters<typeof srv.server.services.agents.call>[1],
        3000,
      );
    // answered at once with BAD_FRAME (not left to the call's deadline), naming what was wrong
    const refused = { ok: false, code: "BAD_FRAME", message: expect.stringContaining("refused by the agent") };
    expect(await call({ op: "service_action", name: `atd; touch ${marker}`, action: "start" })).toEqual(refused);
    expect(await call({ op: "event_logs", level: "error", limit: 5, q: `$(touch ${marker})` })).toEqual(refused);
    expect(await call({ op: "kill", pid: -1, signal: "KILL", tree: false })).toEqual(refused);
    expect(existsSync(marker)).toBe(false);
    expect(agent.output()).toContain("unknown frame from server");
    // and it still answers good ones
    expect((await call({ op: "environment" })).ok).toBe(true);
  });
});

describe("services on the real agent (SysV init scripts: systemd is not PID 1 here)", () => {
  const state = async () =>
    await json<{ manager: string; items: { name: string; state: string; startup: string }[] }>(srv.api(`${base()}/services`));

  test("atd is listed with its description; stop, start and restart change its state; each action audited", async () => {
    const list = await state();
    expect(list.manager).toBe("sysv");
    expect(list.items.find((s) => s.name === "atd")).toMatchObject({ name: "atd", description: "Deferred execution scheduler" });

    const start = await json<{ service: { state: string; pid: number | null } }>(
      srv.api(`${base()}/services/atd/start`, { method: "POST", body: {} }),
    );
    expect(start.service.state).toBe("running");
    expect(start.service.pid).toBeGreaterThan(0);
    expect((await state()).items.find((s) => s.name === "atd")?.state).toBe("running");
    const restarted = await json<{ service: { state: string; pid: number } }>(
      srv.api(`${base()}/services/atd/restart`, { method: "POST", body: {} }),
    );
    expect(restarted.service.state).toBe("running");
    const stop = await json<{ service: { state: string } }>(srv.api(`${base()}/services/atd/stop`, { method: "POST", body: {} }));
    expect(stop.service.state).toBe("stopped");
    expect((await state()).items.find((s) => s.name === "atd")?.state).toBe("stopped");
    expect((await audits("service.start"))[0]).toMatchObject({
      actorName: "admin@example.com",
      details: { service: "atd", outcome: "ok", state: "running" },
    });
    expect((await audits("service.stop"))[0]?.details).toMatchObject({ outcome: "ok", state: "stopped" });
  });

  test("disable then enable: the startup type follows (rc links by update-rc.d)", async () => {
    const off = await json<{ service: { startup: string } }>(srv.api(`${base()}/services/atd/disable`, { method: "POST", body: {} }));
    expect(off.service.startup).toBe("disabled");
    const on = await json<{ service: { startup: string } }>(srv.api(`${base()}/services/atd/enable`, { method: "POST", body: {} }));
    expect(on.service.startup).toBe("auto");
  });

  test("bad input: an unknown service → 404, a malformed name or action → 422, nothing run", async () => {
    const unknown = await srv.api(`${base()}/services/no-such-service/start`, { method: "POST", body: {} });
    expect(unknown.status).toBe(404);
    expect((await json<{ error: { code: string } }>(unknown)).error.code).toBe("SERVICE_NOT_FOUND");
    for (const bad of ["atd;reboot", "../../bin/sh", "-h", "$(reboot)", "a`b`", " atd"]) {
      const res = await srv.api(`${base()}/services/${encodeURIComponent(bad)}/start`, { method: "POST", body: {} });
      expect([bad, res.status]).toEqual([bad, 422]);
    }
    expect((await srv.api(`${base()}/services/atd/reload`, { method: "POST", body: {} })).status).toBe(422);
    expect((await audits("service.start")).map((a) => a.details.service)).toEqual(["atd", "no-such-service"]);
  });
});

describe("event logs on the real agent", () => {
  let stopJournal: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    stopJournal = await ensureJournal();
  });
  afterAll(() => stopJournal?.());

  type Events = { source: string; more: boolean; items: { time: number; level: string; source: string; message: string }[] };

  test("errors written with logger -p user.err are read back as errors, found by text, newest first", async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    for (const n of [1, 2, 3]) {
      const p = Bun.spawn(["logger", "-t", "sentpulse-test", "-p", "user.err", `disk failure ${MARK} #${n}`]);
      expect(await p.exited).toBe(0);
    }
    const p = Bun.spawn(["logger", "-t", "sentpulse-test", "-p", "user.info", `all fine ${MARK}`]);
    expect(await p.exited).toBe(0);
    const got = await waitFor(
      "events",
      async () => {
        const e = await json<Events>(srv.api(`${base()}/event-logs?level=error&q=${MARK}&since=${encodeURIComponent(since)}`));
        return e.items.length === 3 ? e : undefined;
      },
      10_000,
    );
    expect(got.source).toBe("journal");
    expect(got.items.map((e) => e.message)).toEqual([3, 2, 1].map((n) => `disk failure ${MARK} #${n}`));
    expect(got.items.every((e) => e.level === "error" && e.source === "sentpulse-test")).toBe(true);
    const info = await json<Events>(srv.api(`${base()}/event-logs?level=info&q=${MARK}`));
    expect(info.items.map((e) => e.level)).toEqual(["info", "error", "error", "error"]);
    const paged = await json<Events>(srv.api(`${base()}/event-logs?level=error&q=${MARK}&limit=2`));
    expect(paged).toMatchObject({ more: true, items: [{ message: `disk failure ${MARK} #3` }, { message: `disk failure ${MARK} #2` }] });
    const byUnit = await json<Events>(srv.api(`${base()}/event-logs?level=error&unit=sentpulse-test&q=${MARK}`));
    expect(byUnit.items).toHaveLength(3);
  });

  test("bad filters (shell metacharacters, unknown level, reversed range) → 4xx with a code, nothing asked of the agent", async () => {
    for (const q of ["x; reboot", "$(id)", "`id`", "a|b", "a&&b", "a>b", "'quoted'", '"x"', "a\nb"]) {
      const res = await srv.api(`${base()}/event-logs?q=${encodeURIComponent(q)}`);
      expect([q, res.status]).toEqual([q, 422]);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe("VALIDATION_FAILED");
    }
    expect((await srv.api(`${base()}/event-logs?level=panic`)).status).toBe(422);
    expect((await srv.api(`${base()}/event-logs?unit=${encodeURIComponent("x;y")}`)).status).toBe(422);
    const reversed = await srv.api(`${base()}/event-logs?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z`);
    expect(reversed.status).toBe(400);
    expect((await json<{ error: { code: string } }>(reversed)).error.code).toBe("INVALID_RANGE");
  });
});

describe("environment on the real agent", () => {
  test("search by key and by value finds the agent's variable", async () => {
    type Env = { items: { scope: string; key: string; value: string }[] };
    const byKey = await json<Env>(srv.api(`${base()}/environment?q=toolbox_mark`));
    expect(byKey.items).toEqual([{ scope: "process", key: "SENTPULSE_TOOLBOX_MARK", value: MARK }]);
    const byValue = await json<Env>(srv.api(`${base()}/environment?q=${MARK}`));
    expect(byValue.items.map((v) => v.key)).toEqual(["SENTPULSE_TOOLBOX_MARK"]);
    const all = await json<Env>(srv.api(`${base()}/environment`));
    expect(all.items.some((v) => v.key === "PATH")).toBe(true);
  });
});

describe("hardware health on the real agent", () => {
  test("disks are what smartctl finds on this machine, sensors what hwmon has, and notes say what could not be read", async () => {
    type Health = { sensors: unknown[]; disks: { device: string }[]; batteries: unknown[]; antivirus: unknown[]; notes: string[] };
    const res = await srv.api(`${base()}/health`);
    expect(res.status).toBe(200);
    const h = (await res.json()) as Health;
    // ground truth from the same programs, run here
    const scan = Bun.spawnSync(["smartctl", "--scan-open", "--json"]);
    const devices = (JSON.parse(scan.stdout.toString()) as { devices?: unknown[] }).devices ?? [];
    expect(h.disks).toHaveLength(devices.length);
    if (devices.length === 0) expect(h.notes).toContain("smartctl found no disk that reports S.M.A.R.T.");
    expect(h.sensors.length === 0).toBe(!existsSync("/sys/class/hwmon") || readdirSync("/sys/class/hwmon").length === 0);
    if (h.sensors.length === 0) expect(h.notes).toContain("no hardware monitoring sensors (hwmon) on this machine");
    // ClamAV as installed here (without a signature database, which freshclam would download): reported outdated
    const clam = Bun.spawnSync(["clamscan", "--version"]).stdout.toString().trim();
    expect(h.antivirus).toEqual([
      { product: clam.split("/")[0], enabled: false, realTime: false, definitions: null, definitionsUpdatedAt: null, outdated: true },
    ]);
  });
});

describe("a device that is not connected", () => {
  test("→ 409 DEVICE_OFFLINE for reads and actions, nothing audited", async () => {
    await agent.stop();
    await waitFor("disconnected", async () => !srv.server.services.agents.get(agent.deviceId), 10_000);
    const before = (await audits("process.kill")).length;
    for (const [path, body] of [
      ["/processes", undefined],
      ["/processes/1234/kill", {}],
      ["/services/atd/start", {}],
      ["/event-logs", undefined],
      ["/environment", undefined],
    ] as const) {
      const res = await srv.api(`${base()}${path}`, body ? { body } : {});
      expect([path, res.status]).toEqual([path, 409]);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe("DEVICE_OFFLINE");
    }
    expect((await audits("process.kill")).length).toBe(before);
  });
});
