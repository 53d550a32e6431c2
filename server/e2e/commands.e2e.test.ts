import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { otherOrganization } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

let srv: TestServer;
let agent: EnrolledAgent;
const settings = { telemetryIntervalS: 2, beaconIntervalS: 5, onlineWindowS: 6, offlineAfterS: 30 };

type Command = { id: string; status: string; exitCode: number | null; stdout: string; stderr: string };
const getCommand = async (id: string) => (await (await srv.api(`/api/v1/commands/${id}`)).json()) as Command;
const finished = (id: string, timeoutMs = 30_000) =>
  waitFor(
    `command ${id} finished`,
    async () => {
      const c = await getCommand(id);
      return ["succeeded", "failed", "timed_out", "expired", "cancelled"].includes(c.status) ? c : undefined;
    },
    timeoutMs,
  );
async function run(payload: Record<string, unknown>, type = "run_script"): Promise<string> {
  const res = await srv.api(`/api/v1/devices/${agent.deviceId}/commands`, { body: { type, payload } });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}
const online = () =>
  waitFor("online", async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online", 30_000);

beforeAll(async () => {
  srv = await startTestServer(settings);
  agent = await enrollRealAgent(srv);
  const config = await Bun.file(agent.configPath).json();
  await Bun.write(agent.configPath, JSON.stringify({ ...config, simulatePower: true }));
  agent.start();
  await online();
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  await srv?.stop();
});

describe("scripts on the real agent", () => {
  test("stdout, stderr and exit code 3 are stored", async () => {
    const id = await run({
      language: "bash",
      content: 'echo "out $1 $GREETING"\necho "err line" >&2\nexit 3',
      args: ["one"],
      env: { GREETING: "hello" },
    });
    const c = await finished(id);
    expect(c).toMatchObject({ status: "failed", exitCode: 3 });
    expect(c.stdout).toBe("out one hello\n");
    expect(c.stderr).toBe("err line\n");
  });

  test("a script that outlives its timeout is killed with its children and marked timed_out", async () => {
    const id = await run({ language: "bash", content: "sleep 300 &\necho child $!\nsleep 300", timeoutSeconds: 2 });
    const c = await finished(id);
    expect(c.status).toBe("timed_out");
    const child = Number(/child (\d+)/.exec(c.stdout)?.[1]);
    expect(child).toBeGreaterThan(0);
    await waitFor(
      "child gone",
      async () => !existsSync(`/proc/${child}`) || readFileSync(`/proc/${child}/stat`, "utf8").includes(") Z "),
      5000,
    );
  });

  test("a library script runs with its default arguments", async () => {
    const res = await srv.api("/api/v1/scripts", {
      body: { name: "hello", language: "sh", content: 'echo "hi $1"', defaultArgs: ["there"] },
    });
    expect(res.status).toBe(201);
    const script = (await res.json()) as { id: string };
    const c = (await finished(await run({ scriptId: script.id }))) as Command & { id: string };
    expect(c).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "hi there\n" });
    const runs = (await (await srv.api(`/api/v1/scripts/${script.id}/runs`)).json()) as { items: { id: string; hostname: string }[] };
    expect(runs.items.map((r) => r.id)).toEqual([c.id]);
  });

  test("a command that reaches the agent after its deadline is reported expired and does not run", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "sentpulse-late-")), "ran");
    const [user] = await srv.sql<{ id: string; email: string; organizationId: string }[]>`
      select u.id, u.email, d.organization_id as "organizationId" from users u join devices d on d.organization_id = u.organization_id
      where d.id = ${agent.deviceId} limit 1`;
    const [row] = await srv.server.services.commands.record(srv.sql, {
      organizationId: user!.organizationId,
      deviceIds: [agent.deviceId],
      spec: { kind: "run_script", language: "bash", content: `touch ${marker}`, args: [], env: {}, timeoutSeconds: 10 },
      scriptId: null,
      actor: { type: "user", id: user!.id, name: user!.email },
      expiresInMs: 60_000,
    });
    // delivered late (a frame held up in transit): the deadline has passed on arrival
    const sent = srv.server.services.agents.send(agent.deviceId, {
      type: "command",
      data: { commandId: row!.id, spec: row!.payload, deadline: Date.now() - 1000 },
    });
    expect(sent).toBe(true);
    const c = await finished(row!.id);
    expect(c).toMatchObject({ status: "expired", startedAt: null });
    expect(existsSync(marker)).toBe(false);
  });

  test("reboot runs in simulate mode and is audited", async () => {
    const c = await finished(await run({ delaySeconds: 0, message: "maintenance" }, "reboot"));
    expect(c.status).toBe("succeeded");
    const [a] = await srv.sql`select count(*)::int as n from audit_log where action = 'command.reboot' and target_id = ${agent.deviceId}`;
    expect(a?.n).toBe(1);
  });
});

describe("offline queueing", () => {
  test("a command queued for a stopped agent runs exactly once when it starts", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "sentpulse-once-")), "runs");
    await agent.stop();
    const id = await run({ language: "bash", content: `echo ran >> ${marker}` });
    expect((await getCommand(id)).status).toBe("queued");
    agent.start();
    const c = await finished(id);
    expect(c.status).toBe("succeeded");
    // a reconnect redelivers nothing new: the agent remembers what it ran
    await srv.api(`/api/v1/devices/${agent.deviceId}/disconnect`, { body: { retryAfterSeconds: 0 } });
    await Bun.sleep(1500);
    await online();
    await Bun.sleep(1000);
    expect(readFileSync(marker, "utf8")).toBe("ran\n");
  });

  test("also with a server restart between queueing and delivery", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "sentpulse-once-")), "runs");
    await agent.stop();
    const id = await run({ language: "bash", content: `echo ran >> ${marker}` });
    const { port, databaseUrl } = srv;
    await srv.stop();
    srv = await startTestServer({ ...settings, port }, databaseUrl);
    agent.start();
    const c = await finished(id);
    expect(c.status).toBe("succeeded");
    await Bun.sleep(1000);
    expect(readFileSync(marker, "utf8")).toBe("ran\n");
  });
});

describe("delivery by beacon and to many devices", () => {
  test("with the socket held off, a beacon delivers the command; its outcome arrives when the socket is back", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "sentpulse-beacon-")), "ran");
    await srv.api(`/api/v1/devices/${agent.deviceId}/disconnect`, { body: { retryAfterSeconds: 14 } });
    await waitFor(
      "unresponsive",
      async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "unresponsive",
      15_000,
    );
    const id = await run({ language: "bash", content: `echo via-beacon > ${marker}` });
    await waitFor("ran while the socket was down", async () => existsSync(marker), 15_000);
    expect((await getCommand(id)).status).toBe("sent");
    const c = await finished(id, 40_000);
    expect(c.status).toBe("succeeded");
  });

  test("one command for several devices gives one result per device; foreign ids refuse the whole request", async () => {
    const res = await srv.api("/api/v1/commands", {
      body: { deviceIds: [agent.deviceId], type: "run_script", payload: { language: "sh", content: "echo fan" } },
    });
    expect(res.status).toBe(202);
    const { items } = (await res.json()) as { items: { id: string }[] };
    expect((await finished(items[0]!.id)).stdout).toBe("fan\n");
    const other = await otherOrganization(srv.sql);
    const bad = await srv.api("/api/v1/commands", { body: { deviceIds: [agent.deviceId, other.deviceId], type: "reboot" } });
    expect(bad.status).toBe(404);
  });
});

describe("bad input", () => {
  test("unknown types, bad payloads, other organizations and read-only users are refused", async () => {
    const post = (body: unknown, device = agent.deviceId) => srv.api(`/api/v1/devices/${device}/commands`, { body });
    expect((await post({ type: "format_disk" })).status).toBe(422);
    expect((await post({ type: "run_script", payload: { language: "cobol", content: "x" } })).status).toBe(422);
    expect((await post({ type: "run_script", payload: { language: "bash" } })).status).toBe(422);
    expect((await post({ type: "run_script", payload: { language: "bash", content: "x", env: { "BAD NAME": "1" } } })).status).toBe(422);
    expect((await post({ type: "reboot", payload: { delaySeconds: -1 } })).status).toBe(422);
    expect((await post({ type: "run_script", payload: { scriptId: Bun.randomUUIDv7() } })).status).toBe(404);
    const other = await otherOrganization(srv.sql);
    expect((await post({ type: "reboot" }, other.deviceId)).status).toBe(404);
    const otherCookie = await login(srv.url, other.email, other.password);
    const [mine] = await srv.sql<{ id: string }[]>`select id from commands where device_id = ${agent.deviceId} limit 1`;
    expect((await fetch(`${srv.url}/api/v1/commands/${mine?.id}`, { headers: { cookie: otherCookie } })).status).toBe(404);
    const key = ((await (await srv.api("/api/v1/api-keys", { body: { name: "ro", role: "readonly" } })).json()) as { key: string }).key;
    const ro = await fetch(`${srv.url}/api/v1/devices/${agent.deviceId}/commands`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "reboot" }),
    });
    expect(ro.status).toBe(403);
    const list = (await (await srv.api(`/api/v1/devices/${agent.deviceId}/commands?limit=2`)).json()) as {
      items: Command[];
      nextCursor: string | null;
    };
    expect(list.items.length).toBe(2);
    expect(list.nextCursor).not.toBeNull();
  });
});
