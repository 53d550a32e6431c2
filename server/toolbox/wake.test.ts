import { describe, expect, test } from "bun:test";
import type { WakeDevice } from "./store.ts";
import { neighbours, subnetOf, wakeTargets } from "./wake.ts";

const device = (id: string, nics: WakeDevice["nics"], status = "online"): WakeDevice => ({ id, hostname: id, status, nics });

describe("subnets from reported prefixes", () => {
  test("network and broadcast of an IPv4 CIDR; IPv6, host routes and nonsense are none", () => {
    expect(subnetOf("10.0.5.77/24")).toEqual({ network: 167_773_440, broadcast: 167_773_695, prefix: 24 });
    expect(subnetOf("172.16.9.1/20")?.broadcast).toBe(subnetOf("172.16.15.255/20")?.broadcast);
    for (const bad of ["fe80::1/64", "10.0.0.1/32", "10.0.0.1/31", "10.0.0.1", "300.1.1.1/24", "10.0.0.1/abc"])
      expect(subnetOf(bad)).toBeUndefined();
  });
});

describe("the sleeping device and its neighbours", () => {
  const sleeper = device(
    "sleeper",
    [{ name: "eth0", mac: "AA:BB:CC:00:11:22", addresses: ["10.0.5.77"], cidrs: ["10.0.5.77/24", "fe80::1/64"] }],
    "offline",
  );

  test("its MACs (lower case, no all-zero) and IPv4 subnets", () => {
    const both = wakeTargets({
      ...sleeper,
      nics: [...sleeper.nics, { name: "tun0", mac: "00:00:00:00:00:00", addresses: ["10.8.0.2"], cidrs: ["10.8.0.2/24"] }],
    });
    expect(both.macs).toEqual(["aa:bb:cc:00:11:22"]);
    expect(both.subnets).toHaveLength(2);
    expect(wakeTargets(device("old", [{ name: "eth0", mac: "aa:bb:cc:00:11:22", addresses: ["10.0.5.7"] }])).subnets).toEqual([]);
  });

  test("only devices with an interface in the same subnet relay, with that subnet's broadcast address", () => {
    const online = [
      device("other-lan", [{ name: "eth0", mac: "02:00:00:00:00:01", addresses: ["10.0.6.2"], cidrs: ["10.0.6.2/24"] }]),
      device("wider-mask", [{ name: "eth0", mac: "02:00:00:00:00:02", addresses: ["10.0.5.3"], cidrs: ["10.0.5.3/16"] }]),
      device("same-lan", [
        { name: "wlan0", mac: "02:00:00:00:00:03", addresses: ["192.168.1.4"], cidrs: ["192.168.1.4/24"] },
        { name: "eth0", mac: "02:00:00:00:00:04", addresses: ["10.0.5.200"], cidrs: ["10.0.5.200/24"] },
      ]),
    ];
    expect(neighbours(wakeTargets(sleeper).subnets, online).map((n) => [n.device.id, n.broadcasts])).toEqual([
      ["same-lan", ["10.0.5.255"]],
    ]);
  });
});
