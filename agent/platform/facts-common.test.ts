import { describe, expect, test } from "bun:test";
import { cleanSerial, clip, nicsFromOs } from "./facts-common.ts";

describe("cleanSerial", () => {
  test("keeps real serials, trimmed of padding and NULs", () => {
    expect(cleanSerial("  C02XL0GYJGH5\0\n")).toBe("C02XL0GYJGH5");
    expect(cleanSerial("VMware-56 4d 2e 9c 11 7a 3b 4f-8a 1e 5c 7d 2b 90 6e 13")).toBe(
      "VMware-56 4d 2e 9c 11 7a 3b 4f-8a 1e 5c 7d 2b 90 6e 13",
    );
  });

  test("drops firmware placeholders", () => {
    for (const s of ["To Be Filled By O.E.M.", "Default string", "System Serial Number", "0", "000000000", "None", ""]) {
      expect(cleanSerial(s)).toBe("");
    }
  });

  test("clips to the 128-character wire limit", () => {
    expect(cleanSerial("A".repeat(200))).toHaveLength(128);
    expect(clip("abc", 2)).toBe("ab");
  });
});

describe("nicsFromOs", () => {
  test("skips loopback, keeps MAC and every address with its prefix", () => {
    const nics = nicsFromOs({
      lo: [{ address: "127.0.0.1", netmask: "255.0.0.0", family: "IPv4", mac: "00:00:00:00:00:00", internal: true, cidr: "127.0.0.1/8" }],
      eth0: [
        { address: "10.0.0.5", netmask: "255.255.255.0", family: "IPv4", mac: "02:fc:00:00:00:01", internal: false, cidr: "10.0.0.5/24" },
        {
          address: "fe80::1",
          netmask: "ffff:ffff:ffff:ffff::",
          family: "IPv6",
          mac: "02:fc:00:00:00:01",
          internal: false,
          cidr: "fe80::1/64",
          scopeid: 2,
        },
      ],
    });
    expect(nics).toEqual([
      { name: "eth0", mac: "02:fc:00:00:00:01", addresses: ["10.0.0.5", "fe80::1"], cidrs: ["10.0.0.5/24", "fe80::1/64"] },
    ]);
  });
});
