import { agentLog } from "./log.ts";
import type { Platform } from "./platform/types.ts";

/**
 * JavaScriptCore's tier-up thresholds are scaled by this while the agent is idle: start-up code and
 * the telemetry loop stay in the interpreter and baseline JIT, so the optimizing compilers' code is
 * never paged in (−4.6 MB idle RSS, docs/benchmarks.md; 100 and 1,000 measured the same).
 */
const IDLE_JIT_POLICY = 100;
/**
 * An idle agent releases again every 5 minutes: later tier-ups and collections page in code once
 * (+6 MB after ~4.5 minutes, docs/benchmarks.md). The repeats only unmap: the pages stay in the page
 * cache, so the idle loop maps its ~12 MB back with minor faults and no disk reads.
 */
const REPEAT_MS = 5 * 60_000;
/** The normal JIT policy, while a technician is using the device. */
const ACTIVE_JIT_POLICY = 1;
/** Bun before 1.4.4 has no JIT policy; the agent is only measured with those (docs/benchmarks.md), never shipped. */
const setJITPolicy = (scale: number) => Bun.unsafe.setJITPolicy?.(scale);

/**
 * Keeps the idle agent small. At start and whenever a technician's activity (a command, terminal,
 * toolbox, file or patch call) has been quiet for `quietMs`, and every `repeatMs` after while it stays
 * quiet, it puts the JIT back to the idle policy and hands the pages only start-up or that activity
 * used back to the OS (`Platform.releasePages`), which takes an agent from ~50 MB RSS to ~25 MB on
 * Linux. Activity restores the normal JIT.
 */
export class Footprint {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private active = false;
  private releasing = false;
  /** The first release after start or activity is logged at info, the repeats at debug. */
  private announced = false;

  constructor(
    private readonly platform: Pick<Platform, "releasePages">,
    /** Quiet time before a release, ms; 0 never releases. */
    private readonly quietMs: number,
    /** While it stays quiet, the release again this often, ms (what later tier-ups and GCs paged in). */
    private readonly repeatMs = REPEAT_MS,
  ) {}

  start(): void {
    this.announced = false;
    setJITPolicy(IDLE_JIT_POLICY);
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Something a technician asked for arrived: normal JIT until it has been quiet again. */
  activity(): void {
    this.announced = false;
    if (!this.active) {
      this.active = true;
      setJITPolicy(ACTIVE_JIT_POLICY);
    }
    this.schedule();
  }

  private schedule(delayMs = this.quietMs): void {
    clearTimeout(this.timer);
    if (this.quietMs > 0) this.timer = setTimeout(() => void this.quiet(), delayMs);
  }

  private async quiet(): Promise<void> {
    this.active = false;
    setJITPolicy(IDLE_JIT_POLICY);
    this.schedule(this.repeatMs);
    if (!this.platform.releasePages || this.releasing) return;
    this.releasing = true;
    try {
      // the first release after start or activity evicts; the repeats only unmap (no disk reads after)
      const r = await this.platform.releasePages(this.announced ? "unmap" : "evict");
      agentLog(r.error ? "warn" : this.announced ? "debug" : "info", "released once-used pages", {
        ...r,
        rssBytes: process.memoryUsage.rss(),
      });
      this.announced = true;
    } catch (err) {
      agentLog("warn", "could not release pages", { error: String(err) });
    } finally {
      this.releasing = false;
    }
  }
}
