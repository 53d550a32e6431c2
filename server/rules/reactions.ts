import type { EventBus } from "../events/bus.ts";
import type { RuleEvaluator } from "./evaluator.ts";

/** The first non-empty line of a script's output, cut to a readable length. */
const firstLine = (text: string): string => (text.split("\n").find((l) => l.trim()) ?? "").trim().slice(0, 200);

/**
 * What the rules react to: stored telemetry (threshold rules), status changes to and from offline
 * (offline rules), and finished script checks (their exit code is the rule's value; a check that
 * hangs is a failing check).
 */
export function ruleReactions(bus: EventBus, rules: RuleEvaluator): void {
  bus.subscribe("telemetry.stored", (e) => rules.submit(e.samples));
  // cached facts and rules: every node keeps its own, so every node drops them at once
  bus.subscribe("group.membership", (e) => rules.groupMembership(e.changes), { nodes: "all" });
  bus.subscribe("policy.changed", () => rules.policiesChanged(), { nodes: "all" });
  bus.subscribe("device.changed", (e) => rules.forgetDevices(e.deviceIds), { nodes: "all" });
  bus.subscribe("rules.changed", () => rules.reloadRules(), { nodes: "others" });
  bus.subscribe("device.status", (e) =>
    rules.submitStatuses(
      e.changes
        .filter((c) => c.status === "offline" || c.previous === "offline")
        .map((c) => ({ organizationId: c.organizationId, deviceId: c.id, offline: c.status === "offline", at: e.at })),
    ),
  );
  bus.subscribe("command.finished", (e) => {
    if (!e.checkRuleId || (e.status !== "succeeded" && e.status !== "failed" && e.status !== "timed_out")) return;
    rules.submitCheck({
      organizationId: e.organizationId,
      deviceId: e.deviceId,
      ruleId: e.checkRuleId,
      exitCode: e.status === "timed_out" ? 124 : (e.exitCode ?? 1),
      at: e.at,
      output: e.status === "timed_out" ? "timed out" : firstLine(e.stdout) || firstLine(e.stderr),
    });
  });
}
