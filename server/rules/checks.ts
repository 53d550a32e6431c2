import type { Sql } from "postgres";
import type { AgentHub } from "../agents/hub.ts";
import type { CommandDispatcher } from "../commands/service.ts";
import { deleteOldCheckRuns } from "../commands/store.ts";
import { withCurrentScript } from "../library/spec.ts";
import { log } from "../log.ts";
import { type CheckRule, dueForCheck, listCheckRules } from "./checks.store.ts";

/** Most devices one rule's check is sent to in one tick (the rest follow on the next). */
const BATCH = 2000;
/** Finished check runs are kept this long, then deleted (a run a minute per device adds up). */
const KEEP_HOURS = 24;

/**
 * Sends the checks of `script_exit_code` rules: every interval, each online device in a rule's
 * scope that is connected to this server process gets the check script as a command (tagged with
 * the rule); its exit code comes back through the command's result and the rule evaluator treats it
 * like a telemetry value. A device still running the previous check is skipped; a check not
 * delivered within its interval expires. Each process serves its own connections, so with several
 * processes no check is sent twice.
 */
export class CheckRunner {
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy = false;
  private lastPrune = 0;

  constructor(
    private readonly sql: Sql,
    private readonly agents: AgentHub,
    private readonly commands: CommandDispatcher,
    private readonly intervalMs = 5000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const rule of await listCheckRules(this.sql)) await this.send(rule);
      if (Date.now() - this.lastPrune > 600_000) await this.prune();
    } catch (err) {
      log("error", "checks failed", { error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.busy = false;
    }
  }

  private async send(rule: CheckRule): Promise<void> {
    const { sql } = this;
    const timeout = rule.spec.kind === "run_script" ? rule.spec.timeoutSeconds : 60;
    // runs are sent on ticks: half a tick of slack keeps the gap at the interval, not interval + tick
    const due = await dueForCheck(sql, rule, this.intervalMs / 2000, timeout, BATCH);
    const local = due.filter((id) => this.agents.get(id));
    if (local.length === 0) return;
    await this.commands.enqueue({
      organizationId: rule.organizationId,
      deviceIds: local,
      spec: await withCurrentScript(sql, rule.organizationId, rule.spec, rule.scriptId),
      scriptId: rule.scriptId,
      actor: { type: "rule", id: rule.id, name: rule.name },
      expiresInMs: rule.intervalSeconds * 1000,
      checkRuleId: rule.id,
    });
  }

  private async prune(): Promise<void> {
    this.lastPrune = Date.now();
    const gone = await deleteOldCheckRuns(this.sql, KEEP_HOURS, 50_000);
    if (gone > 0) log("info", "old check runs deleted", { count: gone });
  }
}
