import { describe, expect, test } from "bun:test";
import type { LiveFrame } from "../protocol/live.ts";
import { LiveHub } from "./hub.ts";

describe("live feed of a client-scoped user", () => {
  test("hears only about the devices it reaches; an organization-wide dashboard hears everything", () => {
    const hub = new LiveHub(() => {});
    const scoped: LiveFrame[] = [];
    const everyone: LiveFrame[] = [];
    hub.subscribe({ organizationId: "o", reaches: (id) => id === "mine", send: (f) => scoped.push(f) });
    hub.subscribe({ organizationId: "o", send: (f) => everyone.push(f) });
    for (const deviceId of ["mine", "theirs"]) {
      hub.publish("o", { type: "device.status", deviceId, hostname: deviceId, status: "offline", previous: "online", at: "now" });
      hub.publish("o", { type: "alert.created", alertId: "a", deviceId, alertType: "offline", severity: "warning", message: "x" });
    }
    expect(scoped.map((f) => (f.data as { deviceId: string }).deviceId)).toEqual(["mine", "mine"]);
    expect(everyone).toHaveLength(4);
  });
});
