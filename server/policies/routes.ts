import { type } from "arktype";
import { Elysia } from "elysia";
import type { Sql } from "postgres";
import { writeAudit } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import { type Principal, actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { deviceInReach } from "../devices/reach.ts";
import { Conflict, NotFound } from "../errors.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { inScope } from "../rules/conditions.ts";
import { type Scope, deleteRulesOfPolicy, deviceMeta, listRules } from "../rules/store.ts";
import { type Target, deleteSchedulesOfPolicy, listSchedules } from "../schedules/store.ts";
import {
  type AssignmentTarget,
  type TargetRef,
  deleteAssignment,
  deleteBlock,
  deletePolicy,
  deviceBlocks,
  deviceLinks,
  findTarget,
  getPolicy,
  insertAssignment,
  insertBlock,
  insertPolicy,
  listAssignments,
  listBlocks,
  listPolicies,
  setEnforced,
  updatePolicy,
} from "./store.ts";

const PolicyBody = type({ name: "0 < string <= 200", "description?": "string <= 2000", "enabled?": "boolean" });
const Policy = type({
  id: "string",
  name: "string",
  description: "string",
  enabled: "boolean",
  ruleCount: "number",
  scheduleCount: "number",
  assignmentCount: "number",
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const TargetRefSchema = type({
  type: "'organization' | 'group' | 'client' | 'site' | 'device'",
  id: "string | null",
  name: "string",
});
const Assignment = type({ id: "string", policyId: "string", target: TargetRefSchema, enforced: "boolean", createdAt: Timestamp });
const Block = type({ id: "string", target: TargetRefSchema, createdAt: Timestamp });
const AssignBody = type({
  target: type({ type: "'organization'" }).or({ type: "'group' | 'client' | 'site' | 'device'", id: "string.uuid" }),
  "enforced?": "boolean",
});
const BlockBody = type({ target: { type: "'client' | 'site' | 'device'", id: "string.uuid" } });
const AssignmentParams = type({ id: "string.uuid", assignmentId: "string.uuid" });
const RuleRef = type({ id: "string", name: "string", metric: "string", severity: "string", enabled: "boolean" });
const ScheduleRef = type({ id: "string", name: "string", cron: "string | null", runAt: Timestamp.or("null"), enabled: "boolean" });
const PolicyDetail = type({
  policy: Policy,
  assignments: Assignment.array(),
  rules: RuleRef.array(),
  schedules: ScheduleRef.array(),
});
/** Where a setting that applies to a device comes from: a policy (through an assignment) or its own scope. */
const Source = type({
  kind: "'policy' | 'scope'",
  /** The policy's name, or the scope's target ("Acme / Main office", "tag role=server", the organization). */
  name: "string",
  "policyId?": "string",
  "via?": TargetRefSchema,
  "scope?": { type: "'organization' | 'group' | 'client' | 'site' | 'device' | 'tag'", id: "string | null", name: "string" },
});
const Effective = type({
  /** Blocks on the device, its site or its client. */
  blocks: Block.array(),
  /** Every assignment that reaches the device, outermost first; `blockedBy` names the block that stops one. */
  policies: type({
    assignmentId: "string",
    policyId: "string",
    policyName: "string",
    via: TargetRefSchema,
    enforced: "boolean",
    applied: "boolean",
    blockedBy: TargetRefSchema.or("null"),
  }).array(),
  rules: type({ rule: RuleRef, source: Source }).array(),
  schedules: type({ schedule: ScheduleRef, source: Source }).array(),
});

/** The target a rule's scope or a schedule's target names, for the effective view ("where it comes from"). */
async function scopeRef(
  sql: Sql,
  organizationId: string,
  s: Scope,
): Promise<{ type: AssignmentTarget | "tag"; id: string | null; name: string }> {
  if (s.type === "tag") return { type: "tag", id: null, name: `tag ${s.tag}` };
  if (s.type === "policy") return { type: "organization", id: null, name: "" }; // not used: policy sources carry the policy
  const ref = await findTarget(sql, organizationId, s.type, s.type === "organization" ? null : s.id);
  return ref ?? { type: s.type, id: s.type === "organization" ? null : s.id, name: "(deleted)" };
}

/** A schedule's target as a scope; a list of devices is shown as the device itself. */
const scheduleScope = (t: Target, deviceId: string): Scope =>
  "deviceIds" in t
    ? { type: "device", id: deviceId }
    : "siteId" in t
      ? { type: "site", id: t.siteId }
      : "tag" in t
        ? { type: "tag", tag: t.tag }
        : "groupId" in t
          ? { type: "group", id: t.groupId }
          : { type: "policy", id: t.policyId };

/** True when a schedule's target includes the device. */
function scheduleReaches(t: Target, d: { id: string; siteId: string; tags: string[]; groupIds: string[]; policyIds: string[] }): boolean {
  if ("deviceIds" in t) return t.deviceIds.includes(d.id);
  if ("siteId" in t) return t.siteId === d.siteId;
  if ("tag" in t) return d.tags.includes(t.tag);
  if ("groupId" in t) return d.groupIds.includes(t.groupId);
  return d.policyIds.includes(t.policyId);
}

/**
 * Policies: named bundles of alert rules, script checks and schedules (whose scope or target is the
 * policy), attached to the organization, smart groups, clients, sites or devices and inherited
 * downwards; "block inheritance" on a client, site or device drops what is attached above it unless
 * the assignment is enforced. Every change publishes `policy.changed`, so rules follow at once.
 */
export function policyRoutes(s: Pick<Services, "bus" | "sql">) {
  const mustFind = async (organizationId: string, id: string) => {
    const p = await getPolicy(s.sql, organizationId, id);
    if (!p) throw new NotFound("POLICY_NOT_FOUND", "no such policy in your organization");
    return p;
  };
  const changed = (organizationId: string, policyId: string | null) => s.bus.publish("policy.changed", { organizationId, policyId });
  /** Audits a change of a policy's assignments and lets the rules follow it. */
  const assignmentChanged = async (principal: Principal, policyId: string, action: string, details: Record<string, unknown>) => {
    await writeAudit(s.sql, { ...actorOf(principal), action, targetType: "policy", targetId: policyId, details });
    changed(principal.organizationId, policyId);
  };
  const targetOrThrow = async (organizationId: string, type: AssignmentTarget, id: string | null): Promise<TargetRef> => {
    const t = await findTarget(s.sql, organizationId, type, id);
    if (!t) throw new NotFound("TARGET_NOT_FOUND", `no such ${type} in your organization`);
    return t;
  };

  const policies = new Elysia({ prefix: "/api/v1/policies" })
    .use(authPlugin(s.sql))
    .get("/", async ({ principal }) => ({ items: await listPolicies(s.sql, principal.organizationId) }), {
      permission: "device:view",
      response: { 200: listOf(Policy) },
      detail: { summary: "Policies with what they hold and how often they are attached", tags: ["policies"] },
    })
    .post(
      "/",
      async ({ body, principal, set }) => {
        const input = { name: body.name, description: body.description ?? "", enabled: body.enabled ?? true };
        const id = await insertPolicy(s.sql, principal.organizationId, input);
        await writeAudit(s.sql, { ...actorOf(principal), action: "policy.created", targetType: "policy", targetId: id, details: input });
        set.status = 201;
        return mustFind(principal.organizationId, id);
      },
      {
        permission: "policy:manage",
        body: PolicyBody,
        response: { 201: Policy, ...errors(409, 422) },
        detail: { summary: "Create a policy (then add rules, checks and schedules scoped to it, and attach it)", tags: ["policies"] },
      },
    )
    .get(
      "/:id",
      async ({ params, principal }) => {
        const policy = await mustFind(principal.organizationId, params.id);
        const [assignments, rules, schedules] = await Promise.all([
          listAssignments(s.sql, principal.organizationId, params.id),
          listRules(s.sql, principal.organizationId),
          listSchedules(s.sql, principal.organizationId),
        ]);
        return {
          policy,
          assignments,
          rules: rules.filter((r) => r.scope.type === "policy" && r.scope.id === params.id),
          schedules: schedules.filter((x) => "policyId" in x.target && x.target.policyId === params.id),
        };
      },
      {
        permission: "device:view",
        params: IdParam,
        response: { 200: PolicyDetail, ...errors(404, 422) },
        detail: { summary: "A policy with its rules, schedules and assignments", tags: ["policies"] },
      },
    )
    .put(
      "/:id",
      async ({ params, body, principal }) => {
        const before = await mustFind(principal.organizationId, params.id);
        const input = { name: body.name, description: body.description ?? before.description, enabled: body.enabled ?? before.enabled };
        await updatePolicy(s.sql, principal.organizationId, params.id, input);
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "policy.updated",
          targetType: "policy",
          targetId: params.id,
          details: { before: { name: before.name, description: before.description, enabled: before.enabled }, after: input },
        });
        changed(principal.organizationId, params.id);
        return mustFind(principal.organizationId, params.id);
      },
      {
        permission: "policy:manage",
        params: IdParam,
        body: PolicyBody,
        response: { 200: Policy, ...errors(404, 409, 422) },
        detail: { summary: "Rename, describe, enable or disable a policy", tags: ["policies"] },
      },
    )
    .delete(
      "/:id",
      async ({ params, principal }) => {
        const before = await mustFind(principal.organizationId, params.id);
        // the bundle goes with it: its rules (and their alert states) and its schedules
        const removed = await deletePolicy(s.sql, principal.organizationId, params.id, async (tx) => ({
          rules: await deleteRulesOfPolicy(tx, principal.organizationId, params.id),
          schedules: await deleteSchedulesOfPolicy(tx, principal.organizationId, params.id),
        }));
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "policy.deleted",
          targetType: "policy",
          targetId: params.id,
          details: { name: before.name, ...removed },
        });
        changed(principal.organizationId, params.id);
        return { ok: true };
      },
      {
        permission: "policy:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Delete a policy with its rules and schedules", tags: ["policies"] },
      },
    )
    .post(
      "/:id/assignments",
      async ({ params, body, principal, set }) => {
        await mustFind(principal.organizationId, params.id);
        const targetId = body.target.type === "organization" ? null : body.target.id;
        const target = await targetOrThrow(principal.organizationId, body.target.type, targetId);
        const enforced = body.enforced ?? false;
        const id = await insertAssignment(s.sql, principal.organizationId, {
          policyId: params.id,
          type: body.target.type,
          id: targetId,
          enforced,
        });
        if (!id) throw new Conflict("ALREADY_ASSIGNED", `the policy is already attached to ${target.name}`);
        await assignmentChanged(principal, params.id, "policy.assigned", { target, enforced });
        set.status = 201;
        return { id, policyId: params.id, target, enforced, createdAt: new Date() };
      },
      {
        permission: "policy:manage",
        params: IdParam,
        body: AssignBody,
        response: { 201: Assignment, ...errors(404, 409, 422) },
        detail: { summary: "Attach a policy to the organization, a group, a client, a site or a device", tags: ["policies"] },
      },
    )
    .put(
      "/:id/assignments/:assignmentId",
      async ({ params, body, principal }) => {
        await mustFind(principal.organizationId, params.id);
        if (!(await setEnforced(s.sql, principal.organizationId, params.id, params.assignmentId, body.enforced)))
          throw new NotFound("ASSIGNMENT_NOT_FOUND", "the policy is not attached there");
        await assignmentChanged(principal, params.id, body.enforced ? "policy.enforced" : "policy.unenforced", {
          assignmentId: params.assignmentId,
        });
        return { ok: true };
      },
      {
        permission: "policy:manage",
        params: AssignmentParams,
        body: type({ enforced: "boolean" }),
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Enforce an assignment (blocks below do not stop it) or stop enforcing it", tags: ["policies"] },
      },
    )
    .delete(
      "/:id/assignments/:assignmentId",
      async ({ params, principal }) => {
        await mustFind(principal.organizationId, params.id);
        if (!(await deleteAssignment(s.sql, principal.organizationId, params.id, params.assignmentId)))
          throw new NotFound("ASSIGNMENT_NOT_FOUND", "the policy is not attached there");
        await assignmentChanged(principal, params.id, "policy.unassigned", { assignmentId: params.assignmentId });
        return { ok: true };
      },
      {
        permission: "policy:manage",
        params: AssignmentParams,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Detach a policy", tags: ["policies"] },
      },
    );

  const blocks = new Elysia({ prefix: "/api/v1/policy-blocks" })
    .use(authPlugin(s.sql))
    .get("/", async ({ principal }) => ({ items: await listBlocks(s.sql, principal.organizationId) }), {
      permission: "device:view",
      response: { 200: listOf(Block) },
      detail: { summary: "Clients, sites and devices that block policy inheritance", tags: ["policies"] },
    })
    .post(
      "/",
      async ({ body, principal, set }) => {
        const target = await targetOrThrow(principal.organizationId, body.target.type, body.target.id);
        const id = await insertBlock(s.sql, principal.organizationId, body.target.type, body.target.id);
        if (!id) throw new Conflict("ALREADY_BLOCKED", `${target.name} already blocks inheritance`);
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "policy.inheritance_blocked",
          targetType: body.target.type,
          targetId: body.target.id,
          details: { name: target.name },
        });
        changed(principal.organizationId, null);
        set.status = 201;
        return { id, target, createdAt: new Date() };
      },
      {
        permission: "policy:manage",
        body: BlockBody,
        response: { 201: Block, ...errors(404, 409, 422) },
        detail: { summary: "Block inheritance at a client, site or device (enforced assignments still apply)", tags: ["policies"] },
      },
    )
    .delete(
      "/:id",
      async ({ params, principal }) => {
        const gone = await deleteBlock(s.sql, principal.organizationId, params.id);
        if (!gone) throw new NotFound("BLOCK_NOT_FOUND", "no such inheritance block in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "policy.inheritance_unblocked",
          targetType: gone.type,
          targetId: gone.id,
        });
        changed(principal.organizationId, null);
        return { ok: true };
      },
      {
        permission: "policy:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Let a client, site or device inherit policies again", tags: ["policies"] },
      },
    );

  const effective = new Elysia({ prefix: "/api/v1/devices" }).use(authPlugin(s.sql)).get(
    "/:id/policies",
    async ({ params, principal }) => {
      if (!(await deviceInReach(s.sql, principal, params.id))) throw new NotFound("DEVICE_NOT_FOUND", "no such device");
      const [[meta], links, blockRows, rules, schedules] = await Promise.all([
        deviceMeta(s.sql, [params.id]),
        deviceLinks(s.sql, params.id),
        deviceBlocks(s.sql, params.id),
        listRules(s.sql, principal.organizationId),
        listSchedules(s.sql, principal.organizationId),
      ]);
      if (!meta) throw new NotFound("DEVICE_NOT_FOUND", "no such device");
      const policyOf = new Map(links.filter((l) => !l.blockedBy).map((l) => [l.policyId, l]));
      const source = async (scope: Scope) => {
        if (scope.type === "policy") {
          const l = policyOf.get(scope.id);
          return { kind: "policy" as const, name: l?.policyName ?? "", policyId: scope.id, ...(l ? { via: l.via } : {}) };
        }
        const ref = await scopeRef(s.sql, principal.organizationId, scope);
        return { kind: "scope" as const, name: ref.name, scope: ref };
      };
      const ruleItems = [];
      for (const r of rules.filter((r) => inScope(r, meta)))
        ruleItems.push({
          rule: { id: r.id, name: r.name, metric: r.metric, severity: r.severity, enabled: r.enabled },
          source: await source(r.scope),
        });
      const scheduleItems = [];
      for (const x of schedules.filter((x) => scheduleReaches(x.target, meta)))
        scheduleItems.push({
          schedule: { id: x.id, name: x.name, cron: x.cron, runAt: x.runAt, enabled: x.enabled },
          source: await source(scheduleScope(x.target, meta.id)),
        });
      return {
        blocks: blockRows,
        policies: links.map((l) => ({ ...l, applied: l.blockedBy === null })),
        rules: ruleItems,
        schedules: scheduleItems,
      };
    },
    {
      permission: "device:view",
      params: IdParam,
      response: { 200: Effective, ...errors(404, 422) },
      detail: {
        summary: "The device's effective policy: what applies, what is blocked, and where each setting comes from",
        tags: ["policies"],
      },
    },
  );

  return new Elysia().use(policies).use(blocks).use(effective);
}
