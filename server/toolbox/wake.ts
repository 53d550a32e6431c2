import type { WakeDevice } from "./store.ts";

/** An IPv4 subnet as 32-bit numbers: its network and broadcast addresses. */
interface Subnet {
  network: number;
  broadcast: number;
  prefix: number;
}

function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

const dotted = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** The subnet of an IPv4 CIDR ("10.0.0.5/24"); undefined for IPv6, host routes (/31, /32) and nonsense. */
export function subnetOf(cidr: string): Subnet | undefined {
  const [addr, bits] = cidr.split("/");
  const ip = addr ? ipv4(addr) : undefined;
  const prefix = Number(bits);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 1 || prefix > 30) return undefined;
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ip / size) * size;
  return { network, broadcast: network + size - 1, prefix };
}

const usableMac = (mac: string) => /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(mac) && mac !== "00:00:00:00:00:00";

/** The sleeping device's MACs and IPv4 subnets, from the interfaces it last reported. */
export function wakeTargets(d: WakeDevice): { macs: string[]; subnets: Subnet[] } {
  const macs = [...new Set(d.nics.map((n) => n.mac.toLowerCase()).filter(usableMac))].slice(0, 8);
  const subnets = d.nics.flatMap((n) => (n.cidrs ?? []).flatMap((c) => subnetOf(c) ?? []));
  return { macs, subnets };
}

/**
 * Online devices that share a broadcast domain with the target (an IPv4 subnet on one of their
 * interfaces equals one of the target's), in the given order, each with the directed broadcast
 * addresses to use.
 */
export function neighbours(target: Subnet[], online: WakeDevice[]): { device: WakeDevice; broadcasts: string[] }[] {
  const out: { device: WakeDevice; broadcasts: string[] }[] = [];
  for (const d of online) {
    const mine = d.nics.flatMap((n) => (n.cidrs ?? []).flatMap((c) => subnetOf(c) ?? []));
    const shared = target.filter((t) => mine.some((m) => m.network === t.network && m.prefix === t.prefix));
    if (shared.length > 0) out.push({ device: d, broadcasts: [...new Set(shared.map((s) => dotted(s.broadcast)))].slice(0, 8) });
  }
  return out;
}
