import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "../../db/embedded.ts";
import { enrollDevice, facts, otherOrganization, rawToken } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";
import { nextOccurrence } from "./scheduler.ts";

let a: TestServer;
let b: Subprocess | undefined;
beforeAll(async () => {
  a = await startTestServer({ schedulerIntervalMs: 200 });
  // a second server, as its own OS process, on the same database
  const dataDir = mkdtempSync(join(tmpdir(), "sentpulse-second-"));
  b = Bun.spawn(["bun", "server/main.ts"], {
    env: {
      ...process.env,
      SENTPULSE_DATABASE_URL: a.databaseUrl,
      SENTPULSE_PORT: String(freePort()),
      SENTPULSE_HOST: "127.0.0.1",
      SENTPULSE_DATA_DIR: dataDir,
      SENTPULSE_SCHEDULER_INTERVAL_MS: "200",
      SENTPULSE_LOG_LEVEL: "error",
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  await waitFor("second server", async () => (await a.sql`select count(*)::int as n from server_nodes`)[0]?.n === 2, 30_000);
}, 120_000);
afterAll(async () => {
  b?.kill("SIGTERM");
  await b?.exited;
  await a?.stop();
});

async function device(srv: TestServer, tag: string): Promise<string> {
  const [site] = await srv.sql<{ id: string; org: string }[]>`select id, organization_id as org from sites order by created_at limit 1`;
  const token = await rawToken(srv.sql, site!.org, site!.id);
  const res = await fetch(`${srv.url}/api/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, agentVersion: "1", facts: facts(), tags: [tag] }),
  });
  return ((await res.json()) as { deviceId: string }).deviceId;
}

describe("schedules", () => {
  test("cron expressions are time-zone aware", () => {
    const after = new Date("2026-11-23T12:00:00Z");
    expect(nextOccurrence("0 3 * * *", "UTC", after)?.toISOString()).toBe("2026-11-24T03:00:00.000Z");
    expect(nextOccurrence("0 3 * * *", "Europe/Berlin", after)?.toISOString()).toBe("2026-11-24T02:00:00.000Z");
    expect(() => nextOccurrence("every tuesday", "UTC", after)).toThrow();
  });

  test("a schedule every minute runs on time, once, with two server processes on one database", async () => {
    const id = await device(a, "sched=1");
    const res = await a.api("/api/v1/schedules", {
      body: { name: "every minute", cron: "* * * * *", target: { tag: "sched=1" }, language: "sh", content: "echo tick" },
    });
    expect(res.status).toBe(201);
    const sch = (await res.json()) as { id: string; nextRunAt: string };
    const due = new Date(sch.nextRunAt);
    expect(due.getUTCSeconds()).toBe(0);
    const runs = await waitFor(
      "the first occurrence",
      async () => {
        const r = (await (await a.api(`/api/v1/schedules/${sch.id}/runs`)).json()) as {
          items: { dueAt: string; startedAt: string; commandIds: string[] }[];
        };
        return r.items.length > 0 ? r.items : undefined;
      },
      75_000,
      200,
    );
    await Bun.sleep(1500); // both processes had several chances to run it again
    const all = await a.sql`select due_at from schedule_runs where schedule_id = ${sch.id}`;
    expect(all.length).toBe(1);
    expect(new Date(runs[0]!.dueAt).getTime()).toBe(due.getTime());
    expect(new Date(runs[0]!.startedAt).getTime() - due.getTime()).toBeLessThan(3000);
    const commands = await a.sql`select status from commands where device_id = ${id}`;
    expect(commands.length).toBe(1);
    const [next] = await a.sql`select next_run_at from schedules where id = ${sch.id}`;
    expect(new Date(next?.next_run_at).getTime()).toBe(due.getTime() + 60_000);
  }, 120_000);

  test("a library script edited after scheduling runs as edited", async () => {
    const id = await device(a, "sched=lib");
    const script = await a.api("/api/v1/scripts", {
      body: { name: "rotate logs", language: "sh", content: "echo v1", timeoutSeconds: 30 },
    });
    const { id: scriptId } = (await script.json()) as { id: string };
    const res = await a.api("/api/v1/schedules", {
      body: { name: "rotate", runAt: new Date(Date.now() + 1500).toISOString(), target: { deviceIds: [id] }, scriptId },
    });
    expect(res.status).toBe(201);
    await a.api(`/api/v1/scripts/${scriptId}`, {
      method: "PUT",
      body: { name: "rotate logs", language: "sh", content: "echo v2", timeoutSeconds: 30 },
    });
    const cmd = await waitFor(
      "the command",
      async () =>
        (
          await a.sql<{ payload: { content: string }; actor: string[] }[]>`
            select payload, array[actor_type, actor_id::text, actor_name] as actor from commands where device_id = ${id}`
        )[0],
      20_000,
    );
    expect(cmd.payload.content).toBe("echo v2");
    const { id: scheduleId } = (await res.json()) as { id: string };
    expect(cmd.actor).toEqual(["schedule", scheduleId, "rotate"]);
  });

  test("a schedule can run a workflow, once per device per occurrence", async () => {
    const ids = [await device(a, "sched=wf"), await device(a, "sched=wf")];
    const wf = await a.api("/api/v1/workflows", {
      body: {
        name: "weekly hygiene",
        trigger: { event: "schedule" },
        actions: [
          { type: "run_script", language: "sh", content: "echo hygiene" },
          { type: "restart_service", service: "cron" },
        ],
      },
    });
    expect(wf.status).toBe(201);
    const { id: workflowId } = (await wf.json()) as { id: string };
    const res = await a.api("/api/v1/schedules", {
      body: { name: "hygiene", runAt: new Date(Date.now() + 1000).toISOString(), target: { tag: "sched=wf" }, workflowId },
    });
    expect(res.status).toBe(201);
    const sch = (await res.json()) as { id: string; workflowId: string; spec: unknown };
    expect(sch).toMatchObject({ workflowId, spec: null });
    type Run = { deviceId: string; event: string; results: { action: string; ok: boolean }[] };
    const runs = await waitFor(
      "a run per device",
      async () => {
        const r = (await (await a.api(`/api/v1/workflows/${workflowId}/runs`)).json()) as { items: Run[] };
        return r.items.length >= 2 ? r.items : undefined;
      },
      20_000,
      200,
    );
    await Bun.sleep(1000); // the other process had its chances too
    expect(((await (await a.api(`/api/v1/workflows/${workflowId}/runs`)).json()) as { items: Run[] }).items.length).toBe(2);
    expect(runs.map((r) => r.deviceId).sort()).toEqual([...ids].sort());
    for (const r of runs) {
      expect(r.event).toBe("schedule");
      expect(r.results.map((x) => [x.action, x.ok])).toEqual([
        ["run_script", true],
        ["restart_service", true],
      ]);
    }
    const [run] = await a.sql`select device_count from schedule_runs where schedule_id = ${sch.id}`;
    expect(run?.device_count).toBe(2);
    expect((await a.sql`select 1 from commands where device_id = any(${ids}::uuid[])`).length).toBe(4);

    // only workflows made for schedules; not both a workflow and a script
    const alertWf = await a.api("/api/v1/workflows", {
      body: { name: "on alert", trigger: { event: "alert.firing" }, actions: [{ type: "add_note", text: "x" }] },
    });
    const alertWfId = ((await alertWf.json()) as { id: string }).id;
    const later = new Date(Date.now() + 3600_000).toISOString();
    const post = (body: unknown) => a.api("/api/v1/schedules", { body });
    expect((await post({ name: "x", runAt: later, target: { tag: "t" }, workflowId: alertWfId })).status).toBe(422);
    expect((await post({ name: "x", runAt: later, target: { tag: "t" }, workflowId, language: "sh", content: "x" })).status).toBe(422);
    expect((await post({ name: "x", runAt: later, target: { tag: "t" }, workflowId: crypto.randomUUID() })).status).toBe(404);
  });

  test("a wake schedule wakes its devices that are not online, once per occurrence, as the schedule", async () => {
    const ids = [
      (await enrollDevice(a, "sched-wake-1", ["sched=wake"])).deviceId,
      (await enrollDevice(a, "sched-wake-2", ["sched=wake"])).deviceId,
    ];
    const res = await a.api("/api/v1/schedules", {
      body: { name: "wake before patching", runAt: new Date(Date.now() + 1000).toISOString(), target: { tag: "sched=wake" }, wake: true },
    });
    expect(res.status).toBe(201);
    const sch = (await res.json()) as { id: string; wake: boolean; spec: unknown; workflowId: unknown };
    expect(sch).toMatchObject({ wake: true, spec: null, workflowId: null });
    // neither device reported a NIC with a subnet, so each attempt is recorded with why nothing was sent
    type Wake = { deviceId: string; actorType: string; actorId: string; actorName: string; outcome: string };
    const wakes = await waitFor(
      "a wake per device",
      async () => {
        const rows = await a.sql<Wake[]>`
          select device_id as "deviceId", actor_type as "actorType", actor_id as "actorId", actor_name as "actorName", outcome
          from device_wakes where device_id = any(${ids}::uuid[])`;
        return rows.length >= 2 ? rows : undefined;
      },
      20_000,
      200,
    );
    await Bun.sleep(1000); // the other process had its chances too
    expect((await a.sql`select 1 from device_wakes where device_id = any(${ids}::uuid[])`).length).toBe(2);
    expect(wakes.map((w) => w.deviceId).sort()).toEqual([...ids].sort());
    for (const w of wakes)
      expect(w).toMatchObject({ actorType: "schedule", actorId: sch.id, actorName: "wake before patching", outcome: "NO_WAKE_ADDRESS" });
    expect((await a.sql`select 1 from commands where device_id = any(${ids}::uuid[])`).length).toBe(0);
    const bad = await a.api("/api/v1/schedules", {
      body: {
        name: "x",
        runAt: new Date(Date.now() + 3600_000).toISOString(),
        target: { tag: "t" },
        wake: true,
        language: "sh",
        content: "x",
      },
    });
    expect(bad.status).toBe(422);
  });

  test("bad schedules are 400 (not understood) or 422 (invalid); another organization's schedules are 404", async () => {
    for (const [body, status] of [
      [{ name: "x", cron: "whenever", target: { tag: "t" }, language: "sh", content: "x" }, 400],
      [{ name: "x", target: { tag: "t" }, language: "sh", content: "x" }, 422],
      [{ name: "x", cron: "* * * * *", runAt: new Date().toISOString(), target: { tag: "t" }, language: "sh", content: "x" }, 422],
      [{ name: "x", cron: "* * * * *", timezone: "Mars/Olympus", target: { tag: "t" }, language: "sh", content: "x" }, 400],
      [{ name: "x", cron: "* * * * *", target: { tag: "t" } }, 422],
    ] as const) {
      expect((await a.api("/api/v1/schedules", { body })).status).toBe(status);
    }
    const other = await otherOrganization(a.sql);
    const [site] = await a.sql`select id from sites where organization_id = ${other.organizationId}`;
    const created = await a.api("/api/v1/schedules", {
      body: {
        name: "mine",
        runAt: new Date(Date.now() + 3600_000).toISOString(),
        target: { siteId: site?.id },
        language: "sh",
        content: "x",
      },
    });
    expect(created.status).toBe(201); // a foreign site id simply targets nothing of ours
    const sch = (await created.json()) as { id: string };
    const [otherUser] = await a.sql`select email from users where organization_id = ${other.organizationId}`;
    const cookie =
      (
        await (
          await fetch(`${a.url}/api/v1/auth/login`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ email: otherUser?.email, password: other.password }),
          })
        ).headers.get("set-cookie")
      )?.split(";")[0] ?? "";
    expect((await fetch(`${a.url}/api/v1/schedules/${sch.id}`, { method: "DELETE", headers: { cookie } })).status).toBe(404);
  });
});
