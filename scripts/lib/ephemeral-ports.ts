import { readFileSync, writeFileSync } from "node:fs";

const RANGE = "/proc/sys/net/ipv4/ip_local_port_range";
/** What the range is widened to: the registered ports above 16,383 stay clear of most listening services. */
const WIDE: [number, number] = [16_384, 65_535];

export interface EphemeralPorts {
  /** The range at the start, and during the run (the same when it was wide enough or could not be changed). */
  before: string;
  during: string;
  /** Puts the range back as it was. */
  restore(): void;
}

/**
 * Room in the kernel's ephemeral port range for `sockets` connections to one address. Linux's connect()
 * picks ports of one parity first and leaves the others to bind(), so half the range goes fast; past
 * that, every connect() searches the whole range in the kernel (measured here: the load generator's
 * three processes went from 10 % to 30 % of a core each at ~14,500 sockets to 127.0.0.1 with the default
 * 32768–60999, and their event loops stalled 100–600 ms, which the agents' round trips then showed). A
 * real fleet connects from thousands of addresses; a load generator on one machine does not. Widens the
 * range for the run when this process may (root; the setting belongs to the network namespace), else
 * says on stderr what to set.
 */
export function ephemeralPorts(sockets: number): EphemeralPorts {
  let before: string;
  try {
    before = readFileSync(RANGE, "utf8").trim().replace(/\s+/, "-");
  } catch {
    return { before: "unknown", during: "unknown", restore() {} };
  }
  const [lo = 0, hi = 0] = before.split("-").map(Number);
  const fast = (hi - lo + 1) / 2;
  // room for the machine's other connections (the server's own to PostgreSQL, sockets in TIME_WAIT)
  if (sockets + 2_000 <= fast) return { before, during: before, restore() {} };
  const wide = `${Math.min(lo, WIDE[0])}-${Math.max(hi, WIDE[1])}`;
  try {
    writeFileSync(RANGE, wide.replace("-", " "));
  } catch {
    console.error(
      `ephemeral ports ${before} allow ~${Math.floor(fast)} fast connects to one address, fewer than ${sockets}: ` +
        `widen them (sysctl -w net.ipv4.ip_local_port_range="${WIDE.join(" ")}") or give --server several addresses`,
    );
    return { before, during: before, restore() {} };
  }
  console.error(`ephemeral ports ${before} → ${wide} for this run (${sockets} sockets to one address)`);
  return {
    before,
    during: wide,
    restore() {
      try {
        writeFileSync(RANGE, before.replace("-", " "));
      } catch {}
    },
  };
}
