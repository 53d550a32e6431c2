import { describe, expect, test } from "bun:test";
import { LocalBus } from "./bus.ts";

const changed = { deviceIds: ["d1"] };

describe("LocalBus", () => {
  test("subscribers run inside publish, in the order they subscribed; a failing one does not stop the others", () => {
    const bus = new LocalBus();
    const seen: string[] = [];
    bus.subscribe("device.changed", () => void seen.push("first"));
    bus.subscribe("device.changed", () => {
      throw new Error("boom");
    });
    bus.subscribe("device.changed", () => void seen.push("third"));
    bus.publish("device.changed", changed);
    expect(seen).toEqual(["first", "third"]);
  });

  test("settled() waits for reactions, including those they start", async () => {
    const bus = new LocalBus();
    const done: string[] = [];
    bus.subscribe("device.changed", async () => {
      await Bun.sleep(20);
      bus.publish("group.changed", { organizationId: "o", groupId: "g" });
      done.push("device");
    });
    bus.subscribe("group.changed", async () => {
      await Bun.sleep(20);
      done.push("group");
    });
    bus.publish("device.changed", changed);
    expect(done).toEqual([]);
    await bus.settled();
    expect(done).toEqual(["device", "group"]);
  });

  test("one process is every node: `origin` and `all` subscribers run on publish, `others` never", () => {
    const bus = new LocalBus();
    const seen: string[] = [];
    bus.subscribe("device.changed", () => void seen.push("origin"));
    bus.subscribe("device.changed", () => void seen.push("all"), { nodes: "all" });
    bus.subscribe("device.changed", () => void seen.push("others"), { nodes: "others" });
    bus.publish("device.changed", changed);
    expect(seen).toEqual(["origin", "all"]);
  });

  test("an event from another node runs the `all` and `others` subscribers once each, not the `origin` ones", () => {
    const bus = new LocalBus();
    const seen: string[] = [];
    bus.subscribe("device.changed", () => void seen.push("origin"));
    bus.subscribe("device.changed", () => void seen.push("all"), { nodes: "all" });
    bus.subscribe("device.changed", () => void seen.push("others"), { nodes: "others" });
    expect(bus.wantsRemote("device.changed")).toBe(true);
    expect(bus.wantsRemote("telemetry.stored")).toBe(false);
    bus.deliverRemote("device.changed", changed);
    expect(seen).toEqual(["all", "others"]);
  });

  test("unsubscribe removes a subscriber from every list it was on", () => {
    const bus = new LocalBus();
    const seen: string[] = [];
    const off = bus.subscribe("device.changed", () => void seen.push("all"), { nodes: "all" });
    off();
    bus.publish("device.changed", changed);
    bus.deliverRemote("device.changed", changed);
    expect(seen).toEqual([]);
    expect(bus.wantsRemote("device.changed")).toBe(false);
  });
});
