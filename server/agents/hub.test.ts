import { describe, expect, test } from "bun:test";
import { AgentHub } from "./hub.ts";

describe("the reconnect window", () => {
  test("grows with the fleet at 500 reconnects a second, within 5–300 s, and is in every agent's settings", () => {
    const hub = new AgentHub(() => ({ telemetryIntervalS: 5, beaconIntervalS: 60 }));
    expect(hub.reconnectWindowS()).toBe(5);
    hub.fleetSize = 10_000;
    expect(hub.reconnectWindowS()).toBe(20);
    hub.fleetSize = 19_000;
    expect(hub.reconnectWindowS()).toBe(38);
    hub.fleetSize = 1_000_000;
    expect(hub.reconnectWindowS()).toBe(300);
    hub.fleetSize = 10_000;
    expect(hub.settingsFor("d")).toEqual({ telemetryIntervalS: 5, beaconIntervalS: 60, liveIntervalS: null, reconnectWindowS: 20 });
  });

  test("at shutdown every agent socket is closed with 1012 naming the window, and the hub is marked closing", () => {
    const hub = new AgentHub(() => ({ telemetryIntervalS: 5, beaconIntervalS: 60 }));
    const closed: [string, number, string][] = [];
    for (let i = 0; i < 3_000; i++) {
      const deviceId = `d${i}`;
      hub.add({ deviceId, organizationId: "o", send: () => {}, close: (code, reason) => void closed.push([deviceId, code, reason]) });
    }
    hub.closeAll();
    expect(hub.closing).toBe(true);
    expect(closed.length).toBe(3_000);
    expect(new Set(closed.map(([, code, reason]) => `${code} ${reason}`))).toEqual(new Set(['1012 {"reconnectWindowS":6}']));
  });

  test("a restart's window also covers the time the server takes to come back (bounded); a node cut off from its cluster adds none", () => {
    const hub = new AgentHub(() => ({ telemetryIntervalS: 5, beaconIntervalS: 60 }));
    const reasons: string[] = [];
    hub.add({ deviceId: "d", organizationId: "o", send: () => {}, close: (_code, reason) => void reasons.push(reason) });
    hub.fleetSize = 10_000;
    hub.restartAllowanceS = 8.2;
    expect(hub.restartAllowanceS).toBe(9);
    hub.closeAll(false);
    hub.closeAll(true);
    expect(reasons).toEqual(['{"reconnectWindowS":20}', '{"reconnectWindowS":29}']);
    hub.restartAllowanceS = 3_600;
    expect(hub.restartAllowanceS).toBe(60);
    hub.restartAllowanceS = Number.NaN;
    expect(hub.restartAllowanceS).toBe(0);
  });
});
