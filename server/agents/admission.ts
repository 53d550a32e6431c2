import { readdirSync } from "node:fs";
import { log } from "../log.ts";

/** Descriptors kept free below the open-file limit: the database pool, dashboards, files, refused handshakes in flight. */
export function reserveFor(limit: number): number {
  return Math.max(256, Math.ceil(limit * 0.02));
}

/** How long refused agents are asked to wait, seconds (they also back off with jitter). */
const RETRY_AFTER_S = 60;
/** A refusal is logged at most this often, ms. */
const WARN_EVERY_MS = 60_000;
/** The descriptor count is read at most this often while near the limit, ms (reading /proc/self/fd costs ~1 ms per 1,000). */
const COUNT_EVERY_MS = 1_000;

/** Open descriptors of this process (Linux /proc, macOS /dev/fd); undefined where neither exists. */
export function countOpenFiles(): number | undefined {
  for (const dir of ["/proc/self/fd", "/dev/fd"]) {
    try {
      return readdirSync(dir).length;
    } catch {}
  }
  return undefined;
}

/**
 * Admits new agent sockets only while the process stays `reserve` descriptors below its open-file
 * limit. A socket refused here is answered 503 before the upgrade and closed at once, so the server
 * never reaches the limit: at the limit `accept()` fails with EMFILE, the pending connection stays
 * in the listen queue, the listening socket stays readable and the event loop spins on it (one core
 * at 100 % for minutes, issue 11). Far from the limit the check is arithmetic; near it the open
 * descriptors are counted (at most once a second).
 */
export class SocketAdmission {
  private others = 0;
  private countedAt = 0;
  private lastCount = 0;
  private warnedAt = 0;
  /** Sockets refused since start, for /metrics and benchmarks. */
  refused = 0;

  constructor(
    /** The soft open-file limit; Infinity where there is none (Windows). */
    readonly limit: number,
    /** Agent sockets held now. */
    private readonly sockets: () => number,
    readonly reserve = reserveFor(limit),
    private readonly count: () => number | undefined = countOpenFiles,
  ) {
    this.measure(Date.now());
  }

  /** Agent sockets this node can hold with its current other descriptors. */
  get capacity(): number {
    return Math.max(0, this.limit - this.reserve - this.others);
  }

  /** 0 when a new agent socket may open; otherwise the seconds the agent should wait. */
  admit(now = Date.now()): number {
    if (!Number.isFinite(this.limit)) return 0;
    const ceiling = this.limit - this.reserve;
    // far below: no need to look (others measured last time, plus room for what changed since)
    if (this.sockets() + this.others < ceiling * 0.9) return 0;
    if (now - this.countedAt >= COUNT_EVERY_MS) this.measure(now);
    const open = Math.max(this.lastCount, this.sockets() + this.others);
    if (open < ceiling) return 0;
    this.refused++;
    if (now - this.warnedAt >= WARN_EVERY_MS) {
      this.warnedAt = now;
      log(
        "warn",
        `open-file limit reached: ${open} of ${this.limit} descriptors in use; new agent sockets refused (503) until some close — raise LimitNOFILE / ulimit -n`,
        {
          open,
          limit: this.limit,
          reserve: this.reserve,
          agentSockets: this.sockets(),
          refusedSinceStart: this.refused,
        },
      );
    }
    return RETRY_AFTER_S;
  }

  private measure(now: number): void {
    this.countedAt = now;
    const n = this.count();
    if (n === undefined) return;
    this.lastCount = n;
    this.others = Math.max(0, n - this.sockets());
  }
}
