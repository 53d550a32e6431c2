import { describe, expect, test } from "bun:test";
import { fitFrame, treeOf } from "./index.ts";

describe("kill tree order", () => {
  test("descendants before their parents, the root last; other branches untouched", () => {
    const list = [
      { pid: 1, ppid: 0 },
      { pid: 10, ppid: 1 },
      { pid: 11, ppid: 10 },
      { pid: 12, ppid: 10 },
      { pid: 13, ppid: 12 },
      { pid: 20, ppid: 1 },
    ];
    const order = treeOf(10, list);
    expect(order.at(-1)).toBe(10);
    expect(order.sort()).toEqual([10, 11, 12, 13].sort());
    expect(treeOf(12, list)).toEqual([13, 12]);
  });

  test("a process that names itself as parent (pid 0 on some systems) does not loop", () => {
    expect(treeOf(0, [{ pid: 0, ppid: 0 }])).toEqual([0]);
  });
});

describe("answers fit in one frame", () => {
  test("a list over the frame budget is cut and marked (truncated, or more for events)", () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ key: `K${i}`, value: "x".repeat(500) }));
    const env = fitFrame({ items });
    expect(env.items.length).toBeLessThan(3000);
    expect(JSON.stringify(env).length).toBeLessThanOrEqual(900_000);
    expect(env).toMatchObject({ truncated: true });
    const events = fitFrame({ source: "journal", items, more: false });
    expect(events.more).toBe(true);
  });

  test("a small answer is returned as it is", () => {
    const small = { items: [{ a: 1 }] };
    expect(fitFrame(small)).toBe(small);
  });
});

describe("Wake-on-LAN magic packet", () => {
  test("six 0xFF bytes, then the MAC sixteen times", async () => {
    const { magicPacket } = await import("./wol.ts");
    const p = magicPacket("02:53:50:0A:0b:0c");
    expect(p).toHaveLength(102);
    expect([...p.subarray(0, 6)]).toEqual([255, 255, 255, 255, 255, 255]);
    for (let i = 0; i < 16; i++) expect([...p.subarray(6 + i * 6, 12 + i * 6)]).toEqual([0x02, 0x53, 0x50, 0x0a, 0x0b, 0x0c]);
    expect(() => magicPacket("02:53:50")).toThrow("not a MAC address");
  });
});
