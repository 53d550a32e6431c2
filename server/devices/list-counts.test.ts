import { describe, expect, test } from "bun:test";
import { LocalBus } from "../events/bus.ts";
import { ListCounts, SharedReads } from "./list-counts.ts";

/** A read that ends when the test says so, counting how often it was started. */
function gate<T>() {
  let started = 0;
  let finish: (v: T) => void = () => {};
  let fail: (e: unknown) => void = () => {};
  const read = () => {
    started++;
    return new Promise<T>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
  };
  return { read, started: () => started, finish: (v: T) => finish(v), fail: (e: unknown) => fail(e) };
}

describe("SharedReads", () => {
  test("requests for the same key while its read runs share it; once it ended the next request reads again", async () => {
    const reads = new SharedReads(new LocalBus());
    const g = gate<string>();
    const a = reads.share("k", g.read);
    const b = reads.share("k", g.read);
    expect(g.started()).toBe(1);
    g.finish("page 1");
    expect(await Promise.all([a, b])).toEqual(["page 1", "page 1"]);
    expect(reads.joined).toBe(1);
    const c = reads.share("k", g.read);
    expect(g.started()).toBe(2);
    g.finish("page 2");
    expect(await c).toBe("page 2");
  });

  test("different keys never share", async () => {
    const reads = new SharedReads(new LocalBus());
    const one = gate<string>();
    const two = gate<string>();
    const a = reads.share('["org",{"clientIds":["a"]}]', one.read);
    const b = reads.share('["org",{"clientIds":["b"]}]', two.read);
    one.finish("a's rows");
    two.finish("b's rows");
    expect(await Promise.all([a, b])).toEqual(["a's rows", "b's rows"]);
    expect(one.started() + two.started()).toBe(2);
  });

  test("a device change, status change or group change ends sharing: a request after it reads afresh (on every node)", async () => {
    for (const publish of [
      (bus: LocalBus) => bus.publish("device.changed", { deviceIds: ["d"] }),
      (bus: LocalBus) => bus.publish("device.status", { changes: [], at: Date.now() }),
      (bus: LocalBus) => bus.deliverRemote("group.membership", { changes: [] }),
    ]) {
      const bus = new LocalBus();
      const reads = new SharedReads(bus);
      const g = gate<string>();
      const before = reads.share("k", g.read);
      publish(bus);
      const after = reads.share("k", g.read);
      expect(g.started()).toBe(2);
      g.finish("after the change");
      expect(await after).toBe("after the change");
      expect(await Promise.race([before, Bun.sleep(5).then(() => "still running")])).toBe("still running");
    }
  });

  test("a failed read fails those who shared it, and the next request reads again", async () => {
    const reads = new SharedReads(new LocalBus());
    const g = gate<string>();
    const a = reads.share("k", g.read);
    const b = reads.share("k", g.read);
    g.fail(new Error("connection lost"));
    await expect(a).rejects.toThrow("connection lost");
    await expect(b).rejects.toThrow("connection lost");
    const c = reads.share("k", g.read);
    expect(g.started()).toBe(2);
    g.finish("ok");
    expect(await c).toBe("ok");
  });
});

describe("ListCounts", () => {
  test("a kept count is dropped when another node publishes a device change (each node keeps its own)", async () => {
    const bus = new LocalBus();
    const counts = new ListCounts(bus);
    let n = 0;
    const count = async () => ++n;
    expect(await counts.get("k", count, () => true)).toBe(1);
    expect(await counts.get("k", count, () => true)).toBe(1);
    bus.deliverRemote("device.changed", { deviceIds: ["d"] });
    expect(await counts.get("k", count, () => true)).toBe(2);
  });
});
