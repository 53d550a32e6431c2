import { describe, expect, test } from "bun:test";
import { backoffMs, MAX_RECONNECT_WINDOW_S, reconnectDelayMs, refusalHoldMs } from "./backoff.ts";

describe("backoff", () => {
  test("grows exponentially, is capped, and is jittered from the first attempt", () => {
    expect(backoffMs(0, 1000, 60_000, () => 0)).toBe(1000);
    expect(backoffMs(0, 1000, 60_000, () => 1)).toBe(2000);
    expect(backoffMs(3, 1000, 60_000, () => 1)).toBe(16_000);
    expect(backoffMs(30, 1000, 60_000, () => 1)).toBe(60_000);
    expect(new Set(Array.from({ length: 50 }, () => backoffMs(0))).size).toBeGreaterThan(10);
    expect(new Set(Array.from({ length: 50 }, () => backoffMs(5))).size).toBeGreaterThan(10);
  });
});

describe("failed attempts inside a reconnect window", () => {
  test("are spread over the window at first, then back off as usual; a bad window changes nothing", () => {
    expect(backoffMs(0, 1000, 60_000, () => 1, 20)).toBe(20_000);
    expect(backoffMs(0, 1000, 60_000, () => 0, 20)).toBe(1000);
    // beyond the window, exponential as before
    expect(backoffMs(5, 1000, 60_000, () => 1, 20)).toBe(60_000);
    expect(backoffMs(0, 1000, 60_000, () => 1, Number.NaN)).toBe(2000);
    expect(backoffMs(0, 1000, 60_000, () => 1, 1e9)).toBe(MAX_RECONNECT_WINDOW_S * 1000);
    // 4,000 agents whose first try met a server not back yet: over a 20 s window, about 200 a second
    const perSecond = new Map<number, number>();
    for (let i = 0; i < 4_000; i++) {
      const s = Math.floor(backoffMs(0, 1000, 60_000, Math.random, 20) / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThan(400);
  });
});

describe("reconnect window", () => {
  test("a lost socket comes back at a uniform time within the window the server named", () => {
    expect(reconnectDelayMs(20, 1000, () => 0)).toBe(1000);
    expect(reconnectDelayMs(20, 1000, () => 1)).toBe(20_000);
    expect(reconnectDelayMs(20, 1000, () => 0.5)).toBe(10_500);
    // 10,000 agents over a 20 s window: about 500 per second, no second with more than twice that
    const perSecond = new Map<number, number>();
    for (let i = 0; i < 10_000; i++) {
      const s = Math.floor(reconnectDelayMs(20) / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThan(1000);
    expect(Math.max(...perSecond.keys())).toBeLessThanOrEqual(20);
  });

  test("no window (an old server) or a bad one: the base delay, and never beyond the cap", () => {
    expect(reconnectDelayMs(0, 1000, () => 1)).toBe(1000);
    expect(reconnectDelayMs(Number.NaN, 1000, () => 1)).toBe(1000);
    expect(reconnectDelayMs(-5, 1000, () => 1)).toBe(1000);
    expect(reconnectDelayMs(1e9, 1000, () => 1)).toBe(MAX_RECONNECT_WINDOW_S * 1000);
  });
});

describe("a refused handshake", () => {
  test("503 (server full or holding the device) holds the agent back 30–60 s, jittered; other failures do not", async () => {
    // the message is what Bun's WebSocket client reports for a refused upgrade, taken from a real one
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response("full", { status: 503, headers: { "retry-after": "60" } }),
    });
    const message = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
      ws.addEventListener("error", (e) => resolve((e as ErrorEvent).message));
    });
    await server.stop(true);
    expect(message).toContain("503");
    expect(refusalHoldMs(message, () => 0)).toBe(30_000);
    expect(refusalHoldMs(message, () => 1)).toBe(60_000);
    expect(refusalHoldMs(message.replace("503", "401"), () => 1)).toBe(0);
    expect(refusalHoldMs("WebSocket connection to 'ws://127.0.0.1:1/' failed: Failed to connect", () => 1)).toBe(0);
  });
});
