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
    const a = reads.share("org", "k", g.read);
    const b = reads.share("org", "k", g.read);
    expect(g.started()).toBe(1);
    g.finish("page 1");
    expect(await Promise.all([a, b])).toEqual(["page 1", "page 1"]);
    expect(reads.joined).toBe(1);
    const c = reads.share("org", "k", g.read);
    expect(g.started()).toBe(2);
    g.finish("page 2");
    expect(await c).toBe("page 2");
  });

  test("different keys never share", async () => {
    const reads = new SharedReads(new LocalBus());
    const one = gate<string>();
    const two = gate<string>();
    const a = reads.share("org", '["org",{"clientIds":["a"]}]', one.read);
    const b = reads.share("org", '["org",{"clientIds":["b"]}]', two.read);
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
      const before = reads.share("org", "k", g.read);
      publish(bus);
      const after = reads.share("org", "k", g.read);
      expect(g.started()).toBe(2);
      g.finish("after the change");
      expect(await after).toBe("after the change");
      expect(await Promise.race([before, Bun.sleep(5).then(() => "still running")])).toBe("still running");
    }
  });

  test("a failed read fails those who shared it, and the next request reads again", async () => {
    const reads = new SharedReads(new LocalBus());
    const g = gate<string>();
    const a = reads.share("org", "k", g.read);
    const b = reads.share("org", "k", g.read);
    g.fail(new Error("connection lost"));
    await expect(a).rejects.toThrow("connection lost");
    await expect(b).rejects.toThrow("connection lost");
    const c = reads.share("org", "k", g.read);
    expect(g.started()).toBe(2);
    g.finish("ok");
    expect(await c).toBe("ok");
  });

  test("at most `concurrency` distinct reads of one organization run at once, the rest in turn; another organization is not held back", async () => {
    const reads = new SharedReads(new LocalBus(), 2);
    const gates = Array.from({ length: 4 }, () => gate<string>());
    const asked = gates.map((g, i) => reads.share("org", `page ${i}`, g.read));
    expect(gates.map((g) => g.started())).toEqual([1, 1, 0, 0]);
    // a request for a waiting page joins it
    const again = reads.share("org", "page 3", gates[3]!.read);
    const other = gate<string>();
    const theirs = reads.share("other org", "other org: page 0", other.read);
    expect(other.started()).toBe(1);
    other.finish("theirs");
    expect(await theirs).toBe("theirs");
    gates[0]!.finish("0");
    await asked[0];
    expect(gates.map((g) => g.started())).toEqual([1, 1, 1, 0]);
    gates[1]!.fail(new Error("failed read"));
    await expect(asked[1]!).rejects.toThrow("failed read");
    expect(gates.map((g) => g.started())).toEqual([1, 1, 1, 1]);
    gates[2]!.finish("2");
    gates[3]!.finish("3");
    expect(await Promise.all([asked[2], asked[3], again])).toEqual(["2", "3", "3"]);
    expect(gates[3]!.started()).toBe(1);
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
