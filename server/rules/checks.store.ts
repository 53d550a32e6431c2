import type { Sql } from "postgres";
import type { CommandSpec } from "../protocol/frames.ts";
import type { Scope } from "./store.ts";

/** An enabled `script_exit_code` rule, as the check runner sends it. */
export interface CheckRule {
  id: string;
  name: string;
  organizationId: string;
  scope: Scope;
  spec: CommandSpec;
  scriptId: string | null;
  intervalSeconds: number;
}

/** The SQL condition for a rule's scope over `devices d join sites s`. */
function scopeSql(sql: Sql, scope: Scope) {
  switch (scope.type) {
    case "organization":
      return sql`true`;
    case "client":
      return sql`s.client_id = ${scope.id}`;
    case "site":
      return sql`d.site_id = ${scope.id}`;
    case "device":
      return sql`d.id = ${scope.id}`;
    case "tag":
      return sql`d.tags @> array[${scope.tag}]::text[]`;
    case "group":
      return sql`exists (select 1 from device_group_members m where m.group_id = ${scope.id} and m.device_id = d.id)`;
    case "policy":
      return sql`exists (select 1 from device_policy_links l where l.policy_id = ${scope.id} and l.device_id = d.id and l.blocked_by is null)`;
  }
}

/** Every enabled rule that runs a check script, in all organizations. */
export async function listCheckRules(sql: Sql): Promise<CheckRule[]> {
  return sql<CheckRule[]>`
    select id, name, organization_id as "organizationId", scope, check_spec as spec, check_script_id as "scriptId",
      check_interval_seconds as "intervalSeconds"
    from alert_rules where enabled and metric = 'script_exit_code'`;
}

/**
 * Online devices in the rule's scope due for its check: none sent within the interval less
 * `slackS` seconds, and none still running (a run older than its `timeoutS` + 60 s no longer counts).
 */
export async function dueForCheck(sql: Sql, rule: CheckRule, slackS: number, timeoutS: number, max: number): Promise<string[]> {
  const due = await sql<{ id: string }[]>`
    select d.id from devices d join sites s on s.id = d.site_id
    where d.organization_id = ${rule.organizationId} and d.status = 'online' and ${scopeSql(sql, rule.scope)}
      and not exists (
        select 1 from commands c where c.check_rule_id = ${rule.id} and c.device_id = d.id
          and (c.created_at > now() - make_interval(secs => ${rule.intervalSeconds - slackS})
               or (c.status in ('queued', 'sent', 'running') and c.created_at > now() - make_interval(secs => ${timeoutS + 60}))))
    limit ${max}`;
  return due.map((d) => d.id);
}
