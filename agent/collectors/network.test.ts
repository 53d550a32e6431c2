import { describe, expect, test } from "bun:test";
import { testData } from "../test-data/helpers.ts";
import { interfaceSamples, parseNetDev } from "./network.ts";
import { ratesBetween } from "./rate.ts";

describe("parseNetDev", () => {
  test("recorded /proc/net/dev: byte counters per interface, lo skipped", () => {
    expect(parseNetDev(testData("linux", "net-dev.1"))).toEqual([
      { name: "ifb0", inBytes: 0, outBytes: 0 },
      { name: "ifb1", inBytes: 0, outBytes: 0 },
      { name: "eth0", inBytes: 169983543, outBytes: 300295 },
    ]);
  });

  test("counters glued to the colon still parse", () => {
    expect(parseNetDev("wlan0:123456789 1 0 0 0 0 0 0 987 2 0 0 0 0 0 0\n")).toEqual([
      { name: "wlan0", inBytes: 123456789, outBytes: 987 },
    ]);
  });

  test("rates between the recorded snapshots one second apart, in wire form", () => {
    const prev = new Map(parseNetDev(testData("linux", "net-dev.1")).map((c) => [c.name, c]));
    const rates = ratesBetween(prev, parseNetDev(testData("linux", "net-dev.2")), 1);
    expect(interfaceSamples(rates).find((r) => r.name === "eth0")).toEqual({ name: "eth0", rxBps: 167210, txBps: 2509 });
  });

  test("wire form caps the list at 256 interfaces and names at 64 characters", () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ name: `veth${i}${"x".repeat(70)}`, inBps: 1, outBps: 2 }));
    const out = interfaceSamples(many);
    expect(out).toHaveLength(256);
    expect(out[0]?.name).toHaveLength(64);
  });
});
