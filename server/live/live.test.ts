import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { otherOrganization } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

function live(cookie?: string) {
  const ws = new WebSocket(`${srv.url.replace("http", "ws")}/api/v1/live`, { headers: cookie ? { cookie } : {} } as unknown as string[]);
  const events: { type: string; code?: string }[] = [];
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
    s.ws.send(JSON.stringify({ type: "watch", deviceId: other.deviceId }));
    s.ws.send(JSON.stringify({ type: "watch", deviceId: "nope" }));
    s.ws.send("not json");
    const errors = await waitFor("3 errors", async () => {
      const e = s.events.filter((x) => x.type === "error");
      return e.length >= 3 ? e : undefined;
    });
    expect(errors.map((e) => e.code).sort()).toEqual(["BAD_FRAME", "BAD_FRAME", "DEVICE_NOT_FOUND"]);
    expect(srv.server.services.live.isWatched(other.deviceId)).toBe(false);
    s.ws.close();
  });
});
