import { type } from "arktype";
import { Elysia } from "elysia";
import { fieldChanges } from "../audit/changes.ts";
import { writeAudit } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import { actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import type { Sql } from "postgres";
import { NotFound, ValidationFailed } from "../errors.ts";
import { getGroup } from "../groups/store.ts";
import { scriptSpec } from "../library/spec.ts";
import { getPolicy } from "../policies/store.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { CommandSpec, ScriptLanguage } from "../protocol/frames.ts";
import { ServiceName } from "../protocol/toolbox.ts";
import { FLAG_METRICS } from "./health.ts";
import { type RuleInput, type RuleRow, deleteRule, getRule, insertRule, listRules, updateRule } from "./store.ts";

const RuleBody = type({
  name: "0 < string <= 200",
  metric:
    "'cpu_percent' | 'memory_percent' | 'swap_percent' | 'disk_free_percent' | 'load1' | 'script_exit_code' | 'offline' | 'service_state' | 'disk_failing' | 'temperature_c' | 'antivirus_disabled' | 'antivirus_definitions_age_days'",
  operator: "'>' | '>=' | '<' | '<='",
  threshold: "-1000000 <= number <= 1000000",
  "durationSeconds?": "0 <= number.integer <= 86400",
  severity: "'info' | 'warning' | 'critical'",
  "cooldownSeconds?": "0 <= number.integer <= 604800",
  "scope?": type({ type: "'organization'" })
    .or({ type: "'client' | 'site' | 'device' | 'group' | 'policy'", id: "string.uuid" })
    .or({ type: "'tag'", tag: "0 < string <= 128" }),
  "channelIds?": "string.uuid[] <= 20",
  "enabled?": "boolean",
  "escalateAfterSeconds?": "60 <= number.integer <= 604800",
  "escalationChannelIds?": "string.uuid[] <= 20",
  /** For `disk_free_percent`: one mount to watch instead of the fullest. */
  "mount?": "0 < string <= 256",
  /** For `service_state`: the service watched (a systemd unit, init script, Windows service or launchd label). */
  "service?": ServiceName,
  /** For `script_exit_code`: the script (library or inline) its devices run every `intervalSeconds`. */
  "check?": {
    "scriptId?": "string.uuid",
    "language?": ScriptLanguage,
    "content?": "0 < string <= 262144",
    "args?": "(string <= 1024)[] <= 64",
    "timeoutSeconds?": "1 <= number.integer <= 3600",
    intervalSeconds: "10 <= number.integer <= 86400",
  },
});
type RuleBody = typeof RuleBody.infer;

/** The stored form of a rule from its body: a check's script resolved (and its timeout kept within the interval). */
async function ruleInput(sql: Sql, organizationId: string, body: RuleBody): Promise<RuleInput> {
  const { check, ...rest } = body;
  if (body.scope?.type === "policy" && !(await getPolicy(sql, organizationId, body.scope.id)))
    throw new NotFound("POLICY_NOT_FOUND", "no such policy in your organization");
  if (body.scope?.type === "group" && !(await getGroup(sql, organizationId, body.scope.id)))
    throw new NotFound("GROUP_NOT_FOUND", "no such group in your organization");
  if (body.mount && body.metric !== "disk_free_percent") throw new ValidationFailed("mount is only for disk_free_percent rules");
  if ((body.metric === "service_state") !== (body.service !== undefined))
    throw new ValidationFailed("service is required for service_state rules and only for them");
  // flags and counts (a service not running, failing disks, protection off) fire above zero
  if (FLAG_METRICS.has(body.metric)) Object.assign(rest, { operator: ">", threshold: 0 });
  // offline: the value is 1 while the device is offline, so the condition is always "> 0"
  if (body.metric === "offline") Object.assign(rest, { operator: ">", threshold: 0 });
  if (body.metric !== "script_exit_code") {
    if (check) throw new ValidationFailed("check is only for script_exit_code rules");
    return rest;
  }
  if (!check) throw new ValidationFailed("a script_exit_code rule needs a check: the script and its interval");
  const spec = await scriptSpec(sql, organizationId, {
    ...check,
    timeoutSeconds: check.timeoutSeconds ?? Math.min(60, check.intervalSeconds),
  });
  if (spec.kind === "run_script") spec.timeoutSeconds = Math.min(spec.timeoutSeconds, check.intervalSeconds);
  return { ...rest, check: { spec, scriptId: check.scriptId ?? null, intervalSeconds: check.intervalSeconds } };
}
const Rule = type({
  id: "string",
  organizationId: "string",
  name: "string",
  metric: RuleBody.get("metric"),
  operator: RuleBody.get("operator"),
  threshold: "number",
  durationSeconds: "number",
  severity: RuleBody.get("severity"),
  cooldownSeconds: "number",
  scope: RuleBody.get("scope"),
  channelIds: "string[]",
  escalateAfterSeconds: "number | null",
  escalationChannelIds: "string[]",
  check: type({ spec: CommandSpec, scriptId: "string | null", intervalSeconds: "number" }).or("null"),
  mount: "string | null",
  service: "string | null",
  enabled: "boolean",
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

/** The fields of a rule whose changes its audit entry lists (none is secret). */
const RULE_AUDITED: (keyof RuleRow)[] = [
  "name",
  "metric",
  "operator",
  "threshold",
  "durationSeconds",
  "severity",
  "cooldownSeconds",
  "scope",
  "channelIds",
  "escalateAfterSeconds",
  "escalationChannelIds",
  "check",
  "mount",
  "service",
  "enabled",
];

/** Alert rules: thresholds held for a duration, per scope, with cooldowns. */
export function ruleRoutes(s: Pick<Services, "rules" | "sql" | "bus">) {
  // reloaded here before the answer; the other server nodes follow from the event
  const changed = async (organizationId: string) => {
    await s.rules.reloadRules();
    s.bus.publish("rules.changed", { organizationId });
  };
  return new Elysia({ prefix: "/api/v1/alert-rules" })
    .use(authPlugin(s.sql))
    .get("/", async ({ principal }) => ({ items: await listRules(s.sql, principal.organizationId) }), {
      permission: "device:view",
      response: { 200: listOf(Rule) },
      detail: { summary: "Alert rules of the organization", tags: ["alerts"] },
    })
    .post(
      "/",
      async ({ body, principal, set }) => {
        const row = await insertRule(s.sql, principal.organizationId, await ruleInput(s.sql, principal.organizationId, body));
        await changed(principal.organizationId);
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "alert_rule.created",
          targetType: "alert_rule",
          targetId: row.id,
          details: { name: row.name },
        });
        set.status = 201;
        return row;
      },
      {
        permission: "alert:configure",
        body: RuleBody,
        response: { 201: Rule, ...errors(404, 422) },
        detail: { summary: "Create an alert rule", tags: ["alerts"] },
      },
    )
    .put(
      "/:id",
      async ({ params, body, principal, server, request }) => {
        const input = await ruleInput(s.sql, principal.organizationId, body);
        const before = await getRule(s.sql, principal.organizationId, params.id);
        const row = before && (await updateRule(s.sql, principal.organizationId, params.id, input));
        if (!row) throw new NotFound("ALERT_RULE_NOT_FOUND", "no such alert rule in your organization");
        await changed(principal.organizationId);
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "alert_rule.updated",
          targetType: "alert_rule",
          targetId: row.id,
          details: { name: row.name, changes: fieldChanges(before, row, RULE_AUDITED) },
          ip: server?.requestIP(request)?.address ?? null,
        });
        return row;
      },
      {
        permission: "alert:configure",
        params: IdParam,
        body: RuleBody,
        response: { 200: Rule, ...errors(404, 422) },
        detail: { summary: "Replace an alert rule", tags: ["alerts"] },
      },
    )
    .delete(
      "/:id",
      async ({ params, principal }) => {
        if (!(await deleteRule(s.sql, principal.organizationId, params.id)))
          throw new NotFound("ALERT_RULE_NOT_FOUND", "no such alert rule in your organization");
        await changed(principal.organizationId);
        await writeAudit(s.sql, { ...actorOf(principal), action: "alert_rule.deleted", targetType: "alert_rule", targetId: params.id });
        return { ok: true };
      },
      {
        permission: "alert:configure",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Delete an alert rule", tags: ["alerts"] },
      },
    );
}
