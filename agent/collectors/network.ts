import type { InterfaceSample } from "../../server/protocol/telemetry.ts";
import type { ByteCounters, ByteRates } from "./rate.ts";

/**
 * Parses /proc/net/dev into cumulative received (inBytes) and transmitted (outBytes) bytes per
 * interface, skipping the loopback `lo`.
 */
export function parseNetDev(text: string): ByteCounters[] {
  const out: ByteCounters[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === "lo" || name === "") continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    out.push({ name, inBytes: Number(f[0] ?? 0), outBytes: Number(f[8] ?? 0) });
  }
  return out;
}

/** Interface rates (bytes/s) in wire form: received as rx, sent as tx, at most 256 interfaces. */
export function interfaceSamples(rates: readonly ByteRates[]): InterfaceSample[] {
  return rates.slice(0, 256).map((r) => ({ name: r.name.slice(0, 64), rxBps: r.inBps, txBps: r.outBps }));
}
