import { agentLog } from "./log.ts";
import type { Platform } from "./platform/types.ts";

/**
 * JavaScriptCore's tier-up thresholds are scaled by this while the agent is idle: start-up code and
 * the telemetry loop stay in the interpreter and baseline JIT, so the optimizing compilers' code is
 * never paged in (−4.6 MB idle RSS, docs/benchmarks.md; 100 and 1,000 measured the same).
 */
const IDLE_JIT_POLICY = 100;
/** The normal JIT policy, while a technician is using the device. */
const ACTIVE_JIT_POLICY = 1;
/** Bun before 1.4.4 has no JIT policy; the agent is only measured with those (docs/benchmarks.md), never shipped. */
const setJITPolicy = (scale: number) => Bun.unsafe.setJITPolicy?.(scale);

/**
 * Keeps the idle agent small. At start and whenever a technician's activity (a command, terminal,
 * toolbox, file or patch call) has been quiet for `quietMs`, it puts the JIT back to the idle policy
 * and hands the pages only start-up or that activity used back to the OS (`Platform.releasePages`),
 * which takes an agent from ~45 MB RSS to ~24 MB on Linux. Activity restores the normal JIT.
 */
export class Footprint {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private active = false;
  private releasing = false;

  constructor(
    private readonly platform: Pick<Platform, "releasePages">,
    /** Quiet time before a release, ms; 0 never releases. */
    private readonly quietMs: number,
  ) {}

  start(): void {
    setJITPolicy(IDLE_JIT_POLICY);
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Something a technician asked for arrived: normal JIT until it has been quiet again. */
  activity(): void {
    if (!this.active) {
      this.active = true;
      setJITPolicy(ACTIVE_JIT_POLICY);
    }
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.quietMs > 0) this.timer = setTimeout(() => void this.quiet(), this.quietMs);
  }

  private async quiet(): Promise<void> {
    this.timer = undefined;
    this.active = false;
    setJITPolicy(IDLE_JIT_POLICY);
    if (!this.platform.releasePages || this.releasing) return;
    this.releasing = true;
    try {
      const r = await this.platform.releasePages();
      agentLog(r.error ? "warn" : "info", "released once-used pages", { ...r, rssBytes: process.memoryUsage.rss() });
    } catch (err) {
      agentLog("warn", "could not release pages", { error: String(err) });
    } finally {
      this.releasing = false;
    }
  }
}
