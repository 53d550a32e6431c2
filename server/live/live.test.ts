import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type } from "arktype";
import { type LiveEvent, LiveFrame } from "../protocol/live.ts";
import { otherOrganization } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";
import { LiveHub } from "./hub.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

function live(cookie?: string) {
  const ws = new WebSocket(`${srv.url.replace("http", "ws")}/api/v1/live`, { headers: cookie ? { cookie } : {} } as unknown as string[]);
  const events: LiveFrame[] = [];
  ws.addEventListener("message", (e) => events.push(JSON.parse(String(e.data))));
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener("open", () => resolve(true));
    ws.addEventListener("close", () => resolve(false));
  });
  return { ws, events, opened };
}

describe("/api/v1/live", () => {
  test("refuses a socket without a session", async () => {
    expect(await live().opened).toBe(false);
    expect(await live("sentpulse_session=forged").opened).toBe(false);
  });

  test("watching another organization's device, or garbage, gets an error frame and no data", async () => {
    const other = await otherOrganization(srv.sql);
    const s = live(srv.cookie);
    expect(await s.opened).toBe(true);
    await waitFor("hello", async () => s.events.some((e) => e.type === "hello"));
    s.ws.send(JSON.stringify({ v: 1, id: "w1", type: "watch", data: { deviceId: other.deviceId } }));
    s.ws.send(JSON.stringify({ type: "watch", deviceId: other.deviceId })); // the flat form of before the envelope
    s.ws.send(JSON.stringify({ v: 1, id: "w2", type: "watch", data: { deviceId: "nope" } }));
    s.ws.send("not json");
    const errors = await waitFor("4 errors", async () => {
      const e = s.events.filter((x) => x.type === "error");
      return e.length >= 4 ? e : undefined;
    });
    expect(errors.map((e) => e.type === "error" && e.data.code).sort()).toEqual([
      "BAD_FRAME",
      "BAD_FRAME",
      "DEVICE_NOT_FOUND",
      "DEVICE_NOT_FOUND",
    ]);
    expect(s.events.every((e) => e.v === 1 && typeof e.id === "string")).toBe(true);
    expect(srv.server.services.live.isWatched(other.deviceId)).toBe(false);
    s.ws.close();
  });
});

describe("live frames", () => {
  test("every published event reaches dashboards as a { v, id, type, data } frame the schema accepts", () => {
    const deviceId = crypto.randomUUID();
    const alert = { alertId: "a", deviceId, alertType: "offline", severity: "critical", message: "m" };
    const point = {
      time: new Date().toISOString(),
      cpuPercent: 1,
      memoryPercent: 2,
      diskPercent: 3,
      swapPercent: 0,
      load1: 0.5,
      networkRxBps: 1,
      networkTxBps: 2,
    };
    const events: LiveEvent[] = [
      { type: "device.status", deviceId, hostname: "h", status: "offline", previous: "online", at: new Date().toISOString() },
      { type: "device.telemetry", deviceId, point },
      { type: "device.enrolled", deviceId, hostname: "h" },
      { type: "command.updated", commandId: "c", deviceId, status: "expired", exitCode: null, stdout: "", stderr: "" },
      { type: "alert.created", ...alert },
      { type: "alert.resolved", ...alert },
    ];
    const hub = new LiveHub(() => {});
    const got: LiveFrame[] = [];
    const sub = { organizationId: "o", send: (f: LiveFrame) => got.push(f) };
    hub.subscribe(sub);
    hub.watch(sub, deviceId);
    for (const e of events) hub.publish("o", e);
    expect(got.map((f) => f.type)).toEqual(events.map((e) => e.type));
    for (const f of got) expect(LiveFrame(JSON.parse(JSON.stringify(f))) instanceof type.errors).toBe(false);
    expect(got[1]).toMatchObject({ v: 1, type: "device.telemetry", data: { deviceId, point } });
  });
});
