import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { agentBinary, startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * The real compiled agent keeps itself small once it is quiet (agent/footprint.ts): it hands the
 * runtime's once-used pages back to Linux, keeps sending telemetry, and loads the executor only for
 * the first command. Its own copy of the binary, fresh (dirty) like a just-installed one: pages another
 * agent maps too are never released.
 */
let srv: TestServer;
let agent: EnrolledAgent;
let proc: Subprocess | undefined;
let log = "";

const released = () =>
  log
    .split("\n")
    .filter((l) => l.includes('"released once-used pages"'))
    .map((l) => JSON.parse(l) as { mappings: number; bytes: number; rssBytes: number; error?: string });
const rssBytes = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
const samples = async () =>
  (await srv.sql<{ n: number }[]>`select count(*)::int as n from device_telemetry where device_id = ${agent.deviceId}`)[0]?.n ?? 0;

beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: 1 });
  agent = await enrollRealAgent(srv);
  const bin = join(agent.configPath, "..", "sentpulse-agent");
  copyFileSync(await agentBinary(), bin);
  Bun.spawnSync(["chmod", "755", bin]);
  const config = await Bun.file(agent.configPath).json();
  await Bun.write(agent.configPath, JSON.stringify({ ...config, releasePagesAfterS: 4 }));
  proc = Bun.spawn([bin, "run", "--config", agent.configPath], { stdout: "ignore", stderr: "pipe" });
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) log = (log + new TextDecoder().decode(chunk)).slice(-50_000);
  })();
}, 120_000);
afterAll(async () => {
  proc?.kill("SIGTERM");
  await proc?.exited;
  await srv?.stop();
});

describe("an idle real agent", () => {
  test("hands its once-used pages back after a quiet spell and keeps sending telemetry", async () => {
    const pid = proc?.pid ?? 0;
    await waitFor("online", async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online");
    const before = rssBytes(pid);
    const [first] = await waitFor("a release", async () => (released().length ? released() : undefined), 20_000);
    expect(first?.error).toBeUndefined();
    expect(first?.mappings).toBeGreaterThanOrEqual(2);
    expect(first?.bytes).toBeGreaterThan(50 * 2 ** 20);
    // the start-up code's pages are out right after the release (the idle loop pages some back in)
    expect(first?.rssBytes).toBeLessThan(before);
    const after = await samples();
    await waitFor("telemetry after the release", async () => (await samples()) >= after + 2, 15_000);
    expect(log).not.toContain('"level":"error"');
  }, 60_000);

  test("a command after the release loads the executor, runs, and the agent goes quiet again", async () => {
    const n = released().length;
    const res = await srv.api(`/api/v1/devices/${agent.deviceId}/commands`, {
      body: { type: "run_script", payload: { language: "sh", content: "echo footprint" } },
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const done = await waitFor("command finished", async () => {
      const c = (await (await srv.api(`/api/v1/commands/${id}`)).json()) as { status: string; stdout?: string; output?: string };
      return ["succeeded", "failed"].includes(c.status) ? c : undefined;
    });
    expect(done.status).toBe("succeeded");
    await waitFor("another release once quiet", async () => released().length > n, 20_000);
    expect(released().at(-1)?.error).toBeUndefined();
  }, 60_000);
});
