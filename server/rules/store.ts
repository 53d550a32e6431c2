import type { Sql } from "postgres";
import type { CommandSpec } from "../protocol/frames.ts";

export type Metric =
  | "cpu_percent"
  | "memory_percent"
  | "swap_percent"
  | "disk_free_percent"
  | "load1"
  | "script_exit_code"
  | "offline"
  // read by the endpoint toolbox (rules/health.ts)
  | "service_state"
  | "disk_failing"
  | "temperature_c"
  | "antivirus_disabled"
  | "antivirus_definitions_age_days";

/** What a `script_exit_code` rule has its devices run every `intervalSeconds` (the library script's current text when `scriptId`). */
interface Check {
  spec: CommandSpec;
  scriptId: string | null;
  intervalSeconds: number;
}
type Operator = ">" | ">=" | "<" | "<=";
export type Scope =
  | { type: "organization" }
  | { type: "client"; id: string }
  | { type: "site"; id: string }
  | { type: "device"; id: string }
  | { type: "tag"; tag: string }
  /** A smart group's members (server/groups). */
  | { type: "group"; id: string }
  /** The devices a policy reaches through its assignments and inheritance (server/policies). */
  | { type: "policy"; id: string };

export interface RuleRow {
  id: string;
  organizationId: string;
  name: string;
  metric: Metric;
  operator: Operator;
  threshold: number;
  durationSeconds: number;
  severity: "info" | "warning" | "critical";
  cooldownSeconds: number;
  scope: Scope;
  channelIds: string[];
  /** Notify `escalationChannelIds` when a firing alert is still unacknowledged after this long. */
  escalateAfterSeconds: number | null;
  escalationChannelIds: string[];
  /** Only for `script_exit_code` rules. */
  check: Check | null;
  /** Only for `disk_free_percent`: the one mount watched (null: the fullest). */
  mount: string | null;
  /** Only for `service_state`: the service watched. */
  service: string | null;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type RuleInput = Pick<RuleRow, "name" | "metric" | "operator" | "threshold" | "severity"> &
  Partial<
    Pick<
      RuleRow,
      | "durationSeconds"
      | "cooldownSeconds"
      | "scope"
      | "channelIds"
      | "enabled"
      | "escalateAfterSeconds"
      | "escalationChannelIds"
      | "check"
      | "mount"
      | "service"
    >
  >;

const columns = (sql: Sql) => sql`
  id, organization_id as "organizationId", name, metric, operator, threshold, duration_seconds as "durationSeconds",
  severity, cooldown_seconds as "cooldownSeconds", scope, channel_ids as "channelIds", enabled,
  escalate_after_seconds as "escalateAfterSeconds", escalation_channel_ids as "escalationChannelIds",
  case when check_spec is null then null
       else jsonb_build_object('spec', check_spec, 'scriptId', check_script_id, 'intervalSeconds', check_interval_seconds) end as "check",
  mount, service, created_at as "createdAt", updated_at as "updatedAt"`;

/** The defaults of seed 000 §13 (offline is the status engine's). */
export const DEFAULT_RULES: RuleInput[] = [
  {
    name: "CPU high",
    metric: "cpu_percent",
    operator: ">",
    threshold: 90,
    durationSeconds: 300,
    severity: "critical",
    cooldownSeconds: 900,
  },
  {
    name: "Memory high",
    metric: "memory_percent",
    operator: ">",
    threshold: 85,
    durationSeconds: 300,
    severity: "warning",
    cooldownSeconds: 900,
  },
  {
    name: "Disk low",
    metric: "disk_free_percent",
    operator: "<",
    threshold: 10,
    durationSeconds: 0,
    severity: "warning",
    cooldownSeconds: 3600,
  },
  {
    name: "Disk critical",
    metric: "disk_free_percent",
    operator: "<",
    threshold: 5,
    durationSeconds: 0,
    severity: "critical",
    cooldownSeconds: 3600,
  },
];

const checkSpec = (sql: Sql, r: RuleInput) => (r.check ? sql.json(r.check.spec as never) : null);

export async function listRules(sql: Sql, organizationId?: string): Promise<RuleRow[]> {
  return sql<
    RuleRow[]
  >`select ${columns(sql)} from alert_rules ${organizationId ? sql`where organization_id = ${organizationId}` : sql``} order by name`;
}

/** One rule of the organization. */
export async function getRule(sql: Sql, organizationId: string, id: string): Promise<RuleRow | undefined> {
  const [row] = await sql<RuleRow[]>`select ${columns(sql)} from alert_rules where id = ${id} and organization_id = ${organizationId}`;
  return row;
}

export async function insertRule(sql: Sql, organizationId: string, r: RuleInput): Promise<RuleRow> {
  const [row] = await sql<RuleRow[]>`
    insert into alert_rules (organization_id, name, metric, operator, threshold, duration_seconds, severity, cooldown_seconds, scope, channel_ids, enabled,
      escalate_after_seconds, escalation_channel_ids, check_spec, check_script_id, check_interval_seconds, mount, service)
    values (${organizationId}, ${r.name}, ${r.metric}, ${r.operator}, ${r.threshold}, ${r.durationSeconds ?? 0}, ${r.severity},
            ${r.cooldownSeconds ?? 900}, ${sql.json((r.scope ?? { type: "organization" }) as never)}, ${r.channelIds ?? []}, ${r.enabled ?? true},
            ${r.escalateAfterSeconds ?? null}, ${r.escalationChannelIds ?? []}, ${checkSpec(sql, r)}, ${r.check?.scriptId ?? null},
            ${r.check?.intervalSeconds ?? null}, ${r.mount ?? null}, ${r.service ?? null})
    returning ${columns(sql)}`;
  if (!row) throw new Error("insert returned nothing");
  return row;
}

export async function updateRule(sql: Sql, organizationId: string, id: string, r: RuleInput): Promise<RuleRow | undefined> {
  const [row] = await sql<RuleRow[]>`
    update alert_rules set name = ${r.name}, metric = ${r.metric}, operator = ${r.operator}, threshold = ${r.threshold},
      duration_seconds = ${r.durationSeconds ?? 0}, severity = ${r.severity}, cooldown_seconds = ${r.cooldownSeconds ?? 900},
      scope = ${sql.json((r.scope ?? { type: "organization" }) as never)}, channel_ids = ${r.channelIds ?? []},
      enabled = ${r.enabled ?? true}, escalate_after_seconds = ${r.escalateAfterSeconds ?? null},
      escalation_channel_ids = ${r.escalationChannelIds ?? []}, check_spec = ${checkSpec(sql, r)},
      check_script_id = ${r.check?.scriptId ?? null}, check_interval_seconds = ${r.check?.intervalSeconds ?? null}, mount = ${r.mount ?? null},
      service = ${r.service ?? null}, updated_at = now()
    where id = ${id} and organization_id = ${organizationId}
    returning ${columns(sql)}`;
  return row;
}

/** Deletes the rules a policy holds (with the policy); how many. */
export async function deleteRulesOfPolicy(sql: Sql, organizationId: string, policyId: string): Promise<number> {
  const rows = await sql`
    delete from alert_rules where organization_id = ${organizationId} and scope->>'type' = 'policy' and scope->>'id' = ${policyId}
    returning id`;
  return rows.count;
}

export async function deleteRule(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const rows = await sql`delete from alert_rules where id = ${id} and organization_id = ${organizationId} returning id`;
  return rows.count > 0;
}

export interface RuleState {
  state: "ok" | "pending" | "firing";
  /** When the condition started holding (pending) or the alert fired (firing), ms. */
  since: number;
  alertId: string | null;
  lastResolvedAt: number | null;
  /** Times of the latest firings and resolutions (ms, oldest first, a few at most), for flap detection. */
  changes: number[];
  /** Flapping: firings and resolutions still happen, their notifications do not. */
  flapping: boolean;
}

export const okState = (): RuleState => ({ state: "ok", since: 0, alertId: null, lastResolvedAt: null, changes: [], flapping: false });

/** Every rule/device pair not in `ok`, flapping, or with a recent resolution (cooldowns), to resume after a restart. */
export async function loadStates(sql: Sql): Promise<Map<string, RuleState>> {
  const rows = await sql<
    {
      ruleId: string;
      deviceId: string;
      state: RuleState["state"];
      since: Date;
      alertId: string | null;
      lastResolvedAt: Date | null;
      changes: Date[];
      flapping: boolean;
    }[]
  >`
    select rule_id as "ruleId", device_id as "deviceId", state, since, alert_id as "alertId", last_resolved_at as "lastResolvedAt",
      changes, flapping
    from alert_rule_states where state <> 'ok' or flapping or last_resolved_at > now() - interval '7 days'`;
  return new Map(
    rows.map((r) => [
      `${r.ruleId}:${r.deviceId}`,
      {
        state: r.state,
        since: r.since.getTime(),
        alertId: r.alertId,
        lastResolvedAt: r.lastResolvedAt?.getTime() ?? null,
        changes: r.changes.map((d) => new Date(d).getTime()),
        flapping: r.flapping,
      },
    ]),
  );
}

/**
 * Writes rule states in one statement (the latest of each pair). Pairs whose rule or device is gone
 * meanwhile are skipped, and an alert deleted meanwhile is not referenced, so one stale pair cannot fail
 * the others.
 */
export async function saveStates(sql: Sql, states: { ruleId: string; deviceId: string; s: RuleState }[]): Promise<void> {
  if (states.length === 0) return;
  const rows = states.map(({ ruleId, deviceId, s }) => ({
    rule_id: ruleId,
    device_id: deviceId,
    state: s.state,
    since: new Date(s.since).toISOString(),
    alert_id: s.alertId,
    last_resolved_at: s.lastResolvedAt === null ? null : new Date(s.lastResolvedAt).toISOString(),
    changes: s.changes.map((t) => new Date(t).toISOString()),
    flapping: s.flapping,
  }));
  await sql`
    insert into alert_rule_states (rule_id, device_id, state, since, alert_id, last_resolved_at, changes, flapping)
    select r.rule_id, r.device_id, r.state, r.since, (select a.id from alerts a where a.id = r.alert_id), r.last_resolved_at,
      array(select c::timestamptz from jsonb_array_elements_text(r.changes) c), r.flapping
    from jsonb_to_recordset(${sql.json(rows as never)}) as r(rule_id uuid, device_id uuid, state text, since timestamptz,
      alert_id uuid, last_resolved_at timestamptz, changes jsonb, flapping boolean)
    where exists (select 1 from alert_rules x where x.id = r.rule_id) and exists (select 1 from devices x where x.id = r.device_id)
    on conflict (rule_id, device_id) do update set state = excluded.state, since = excluded.since,
      alert_id = excluded.alert_id, last_resolved_at = excluded.last_resolved_at, changes = excluded.changes, flapping = excluded.flapping`;
}

export interface DeviceMeta {
  id: string;
  organizationId: string;
  hostname: string;
  siteId: string;
  clientId: string;
  tags: string[];
  /** Smart groups the device belongs to (kept current by `group.membership` between reloads). */
  groupIds: string[];
  /** Policies that apply to the device now (device_policy_links, blocks considered). */
  policyIds: string[];
}

export async function deviceMeta(sql: Sql, ids: string[]): Promise<DeviceMeta[]> {
  // a function: its plan is made once per connection, not for every pass of the evaluator (migration 00046)
  return sql<DeviceMeta[]>`
    select id, organization_id as "organizationId", hostname, site_id as "siteId", client_id as "clientId", tags,
      group_ids as "groupIds", policy_ids as "policyIds"
    from rule_device_facts(${ids}::uuid[])`;
}
