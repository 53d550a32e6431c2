import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { otherOrganization } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

let srv: TestServer;
let agent: EnrolledAgent;

beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: 2, terminalIdleS: 3 });
  agent = await enrollRealAgent(srv);
  agent.start();
  await waitFor(
    "online",
    async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
    30_000,
  );
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  await srv?.stop();
});

function terminal(cookie = srv.cookie, deviceId = agent.deviceId, size = "") {
  const ws = new WebSocket(`${srv.url.replace("http", "ws")}/api/v1/devices/${deviceId}/terminal${size}`, {
    headers: { cookie },
  } as unknown as string[]);
  const frames: { type: string; data?: string; code?: number | null; message?: string }[] = [];
  ws.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data))));
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener("open", () => resolve(true));
    ws.addEventListener("close", () => resolve(false));
  });
  const closed = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
  const output = () =>
    frames
      .filter((f) => f.type === "output")
      .map((f) => f.data)
      .join("");
  return { ws, frames, opened, closed, output };
}

describe("live terminal on the real agent", () => {
  test("type echo hi and read it back; resize to 120x40 and tput cols says 120; the session is recorded and audited", async () => {
    const t = terminal();
    expect(await t.opened).toBe(true);
    t.ws.send(JSON.stringify({ type: "input", data: "echo hi-$((40+2))\r" }));
    await waitFor("echo output", async () => t.output().includes("hi-42"), 15_000);
    t.ws.send(JSON.stringify({ type: "resize", cols: 120, rows: 40 }));
    await Bun.sleep(200);
    t.ws.send(JSON.stringify({ type: "input", data: "echo cols=$(tput cols)\r" }));
    await waitFor("tput cols", async () => t.output().includes("cols=120"), 15_000);
    t.ws.send(JSON.stringify({ type: "input", data: "exit\r" }));
    await waitFor("exit frame", async () => t.frames.some((f) => f.type === "exit"), 15_000);
    await t.closed;
    const sessions = (await (await srv.api(`/api/v1/terminal-sessions?deviceId=${agent.deviceId}`)).json()) as {
      items: { id: string; endReason: string; userEmail: string }[];
    };
    expect(sessions.items[0]?.userEmail).toBe("admin@example.com");
    const rec = await (await srv.api(`/api/v1/terminal-sessions/${sessions.items[0]?.id}/recording`)).text();
    expect(JSON.parse(rec.split("\n")[0] ?? "{}")).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(rec).toContain("hi-42");
    const audit = await srv.sql`select action from audit_log where target_id = ${agent.deviceId} and action like 'terminal.%' order by id`;
    expect(audit.map((a) => a.action)).toEqual(["terminal.opened", "terminal.closed"]);
  });

  test("the idle timeout closes it", async () => {
    const t = terminal();
    expect(await t.opened).toBe(true);
    await waitFor("idle close", async () => t.frames.some((f) => f.type === "error" && /without activity/.test(f.message ?? "")), 15_000);
    await t.closed;
  });

  test("bad frames get an error frame; the terminal keeps working", async () => {
    const t = terminal(srv.cookie, agent.deviceId, "?cols=100&rows=30");
    expect(await t.opened).toBe(true);
    t.ws.send("not json");
    t.ws.send(JSON.stringify({ type: "resize", cols: 0, rows: 5 }));
    await waitFor("two errors", async () => t.frames.filter((f) => f.type === "error").length >= 2);
    t.ws.send(JSON.stringify({ type: "input", data: "echo still-$((1+1))\r" }));
    await waitFor("output", async () => t.output().includes("still-2"), 15_000);
    t.ws.close();
  });

  test("another organization, no session, and read-only users are refused before the upgrade", async () => {
    const other = await otherOrganization(srv.sql);
    const otherCookie = await login(srv.url, other.email, other.password);
    expect(await terminal(otherCookie).opened).toBe(false);
    expect(await terminal("sentpulse_session=nope").opened).toBe(false);
    expect(await terminal(srv.cookie, other.deviceId).opened).toBe(false);
    await srv.api("/api/v1/users", { body: { email: "viewer@example.com", role: "readonly", password: "a long password" } });
    expect(await terminal(await login(srv.url, "viewer@example.com", "a long password")).opened).toBe(false);
  });
});
