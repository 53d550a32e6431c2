import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { freePort } from "../../db/embedded.ts";
import { ADMIN, freshDatabase, waitFor } from "../testing/harness.ts";

const ROOT = resolve(import.meta.dir, "../..");
const AGENTS = 400;
const dir = mkdtempSync(join(tmpdir(), "sentpulse-shutdown-"));
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

describe("shutdown under load", () => {
  test(`a server process stopped (SIGTERM) while ${AGENTS} simulated agents send telemetry every second exits 0, logs no error, and stores every acknowledged batch`, async () => {
    const databaseUrl = await freshDatabase();
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = Bun.spawn(["bun", "server/main.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        SENTPULSE_DATABASE_URL: databaseUrl,
        SENTPULSE_PORT: String(port),
        SENTPULSE_HOST: "127.0.0.1",
        SENTPULSE_DATA_DIR: join(dir, "data"),
        SENTPULSE_ADMIN_EMAIL: ADMIN.email,
        SENTPULSE_ADMIN_PASSWORD: ADMIN.password,
        SENTPULSE_LOG_LEVEL: "info",
      },
      stdout: "ignore",
      stderr: "pipe",
    });
    cleanup.push(() => server.kill("SIGKILL"));
    const serverLog = new Response(server.stderr).text();
    await waitFor("server ready", async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true, 60_000);

    // a smart group and a rule scoped to it that flip with every other sample (random CPU): memberships,
    // rule states, alerts and their events keep the reactions busy when the stop comes
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const group = await fetch(`${url}/api/v1/groups`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", origin: url },
      body: JSON.stringify({ name: "Busy", expression: "cpu > 50" }),
    });
    expect(group.status).toBe(201);
    const groupId = ((await group.json()) as { id: string }).id;
    const rule = await fetch(`${url}/api/v1/alert-rules`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", origin: url },
      body: JSON.stringify({
        name: "CPU above half",
        metric: "cpu_percent",
        operator: ">",
        threshold: 50,
        durationSeconds: 0,
        severity: "warning",
        cooldownSeconds: 0,
        scope: { type: "group", id: groupId },
      }),
    });
    expect(rule.status).toBe(201);

    const raw = join(dir, "rtts.json");
    const loadgen = Bun.spawn(
      [
        "bun",
        "scripts/loadgen.ts",
        "--server",
        url,
        "--agents",
        String(AGENTS),
        "--duration",
        "12",
        "--interval",
        "1",
        "--ramp",
        "2",
      ].concat(["--raw", raw, "--json"]),
      {
        cwd: ROOT,
        env: { ...process.env, SENTPULSE_ADMIN_EMAIL: ADMIN.email, SENTPULSE_ADMIN_PASSWORD: ADMIN.password },
        stdout: "pipe",
        stderr: "inherit",
      },
    );
    cleanup.push(() => loadgen.kill("SIGKILL"));
    const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    cleanup.push(() => sql.end());
    const stored = async () => (await sql<{ n: number }[]>`select count(*)::int as n from device_telemetry`)[0]?.n ?? 0;
    // every agent connected and a few seconds of telemetry (rules and reactions busy with it)
    await waitFor(
      "agents connected",
      async () => ((await (await fetch(`${url}/readyz`)).json()) as { agentsConnected: number }).agentsConnected >= AGENTS,
      60_000,
    );
    await waitFor("telemetry flowing", async () => (await stored()) >= AGENTS * 3, 60_000);

    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    const log = (await serverLog).split("\n").filter(Boolean);
    const result = JSON.parse((await new Response(loadgen.stdout).text()).trim().split("\n").at(-1) ?? "{}") as {
      acked: number;
      closes: Record<string, number>;
    };
    await loadgen.exited;

    // no error logged, ever (before this work: thousands of "rule evaluation failed: write CONNECTION_ENDED")
    expect(log.filter((l) => l.includes('"level":"error"'))).toEqual([]);
    expect(log.some((l) => l.includes('"shutdown complete"'))).toBe(true);
    // the agents were told the server is restarting and the window to spread their reconnects over
    // (5 s for this fleet, plus what this server's start took)
    const restartCloses = Object.entries(result.closes).filter(([k]) => k.startsWith("1012 "));
    expect(restartCloses.length).toBe(1); // one window named to all
    const [closeKey, closedAgents] = restartCloses[0] ?? [];
    expect(closedAgents).toBe(AGENTS);
    const named = JSON.parse(closeKey?.slice("1012 ".length) ?? "{}") as { reconnectWindowS: number };
    expect(named.reconnectWindowS).toBeGreaterThan(5);
    expect(named.reconnectWindowS).toBeLessThanOrEqual(5 + 60);
    // every batch an agent got an ack for is in the table: for each device, batches 1..its highest ack
    const { ackedMarks } = (await Bun.file(raw).json()) as { ackedMarks: Record<string, number> };
    const ids = Object.keys(ackedMarks);
    expect(ids.length).toBe(AGENTS);
    expect(result.acked).toBeGreaterThan(AGENTS * 3);
    const [check] = await sql<{ acked: string; stored: string }[]>`
      select sum(v.mark)::bigint as acked, coalesce(sum(s.n), 0)::bigint as stored
      from unnest(${ids}::uuid[], ${ids.map((id) => ackedMarks[id] ?? 0)}::bigint[]) as v(id, mark)
      left join lateral (
        select count(distinct t.batch_seq) as n from device_telemetry t where t.device_id = v.id and t.batch_seq <= v.mark
      ) s on true`;
    expect(Number(check?.stored)).toBe(Number(check?.acked));
    // and the node let go of its sockets before the database closed
    const [held] = await sql<{ n: number }[]>`select count(*)::int as n from devices where ws_node is not null`;
    expect(held?.n).toBe(0);
  });
});
