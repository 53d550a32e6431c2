import { type } from "arktype";
import { Elysia } from "elysia";
import { principalActor } from "../audit/actor.ts";
import { writeAudit, auditActor } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import { isScoped } from "../auth/permissions.ts";
import type { Principal } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { deviceInReach } from "../devices/reach.ts";
import { AppError, Forbidden, NotFound, ValidationFailed } from "../errors.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { MAX_INSTALL_UPDATES } from "../protocol/patch.ts";
import { type ComplianceScope, complianceHistory, complianceRows, complianceSummary, organizationName } from "./compliance.store.ts";
import { deviceSoftware, fleetSoftware } from "./inventory.store.ts";
import {
  type PatchPolicyInput,
  deletePatchPolicy,
  getPatchPolicy,
  insertPatchPolicy,
  listPatchPolicies,
  ownsPolicyAndGroup,
  updatePatchPolicy,
} from "./policies.store.ts";
import { complianceCsv, compliancePdf } from "./report.ts";
import { type PatchScheduler, openWindowAt } from "./scheduler.ts";
import type { Patches } from "./service.ts";
import { decide, decideForDevices, devicesWith, listUpdates, refreshCounts } from "./updates.store.ts";
import { compareVersions } from "./version.ts";
import {
  ApprovalBody,
  ComplianceQuery,
  ComplianceReport,
  DeviceParam,
  DeviceUpdatesQuery,
  FleetItem,
  InstallBody,
  Limit,
  MAX_FLEET_ROWS,
  MAX_LIST,
  MAX_REPORT_ROWS,
  OpenWindowBody,
  PatchPolicy,
  PatchPolicyBody,
  ScanSummary,
  Software,
  SoftwareName,
  Update,
  UpdatesQuery,
  VersionCondition,
  type UpdateOut,
} from "./schemas.ts";

/** Checks a window's cron and time zone (422 naming what is wrong). */
function checkWindow(w: { cron: string; durationMinutes: number; timezone: string } | null | undefined): void {
  if (!w) return;
  try {
    new Intl.DateTimeFormat("en", { timeZone: w.timezone });
  } catch {
    throw new ValidationFailed(`unknown time zone ${w.timezone}`, { field: "window.timezone" });
  }
  try {
    openWindowAt(w, new Date());
  } catch (err) {
    throw new ValidationFailed(`the window's cron is not understood: ${err instanceof Error ? err.message : String(err)}`, {
      field: "window.cron",
    });
  }
}

function policyInput(b: typeof PatchPolicyBody.infer): PatchPolicyInput {
  return {
    policyId: b.policyId,
    autoApprove: [...new Set(b.autoApprove ?? [])],
    autoApproveSources: [...new Set(b.autoApproveSources ?? [])],
    deferralDays: b.deferralDays ?? 0,
    pilotGroupId: b.pilotGroupId ?? null,
    ringDelayDays: b.ringDelayDays ?? 0,
    window: b.window ?? null,
    reboot: b.reboot ?? "if_needed",
    rebootDelaySeconds: b.rebootDelaySeconds ?? 300,
    exclusions: [...new Set(b.exclusions ?? [])],
    scanIntervalHours: b.scanIntervalHours ?? 6,
  };
}

/**
 * Patch management's API: software inventory (per device and across the fleet with dpkg version
 * ordering), pending updates (list, scan now, install now), approvals, patch settings of policies and
 * their maintenance windows, and the compliance report (JSON, CSV, PDF). Reading needs `device:view`,
 * scanning `device:manage`, approving and installing `patch:approve`, patch settings `policy:manage`.
 */
export function patchRoutes(s: Pick<Services, "sql">, patches: Patches, scheduler: PatchScheduler) {
  const reach = async (principal: Principal, id: string) => {
    if (!(await deviceInReach(s.sql, principal, id))) throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
  };
  const ipOf = (server: { requestIP(r: Request): { address: string } | null } | null, request: Request) =>
    server?.requestIP(request)?.address ?? null;

  /** The updates with these ids the principal reaches; 404 naming the first missing one. */
  const reachable = async (principal: Principal, ids: readonly string[], deviceId?: string) => {
    const rows = await listUpdates(
      s.sql,
      principal.organizationId,
      principal,
      { ids, ...(deviceId ? { deviceId } : {}), state: undefined },
      MAX_INSTALL_UPDATES,
    );
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.find((id) => !found.has(id));
    if (missing)
      throw new AppError(
        404,
        deviceId ? "UPDATE_NOT_ON_DEVICE" : "UPDATE_NOT_FOUND",
        deviceId ? `the device has no update ${missing}` : `no update ${missing} in your organization`,
        { updateId: missing },
      );
    return rows;
  };

  const scopeOf = (q: typeof ComplianceQuery.infer): ComplianceScope => ({ clientId: q.clientId, siteId: q.siteId, groupId: q.groupId });
  /** The report as JSON: totals, the worst devices first, and the daily history. */
  const complianceJson = async (principal: Principal, q: typeof ComplianceQuery.infer) => {
    const overdueDays = q.overdueDays ?? 14;
    const [summary, items, history] = await Promise.all([
      complianceSummary(s.sql, principal.organizationId, principal, scopeOf(q), overdueDays),
      complianceRows(s.sql, principal.organizationId, principal, scopeOf(q), overdueDays, q.limit ?? MAX_LIST, 0),
      complianceHistory(s.sql, principal.organizationId, 90),
    ]);
    return { summary, items, history };
  };
  /** The report as a CSV or PDF download (every device in scope, up to MAX_REPORT_ROWS). */
  const complianceFile = async (principal: Principal, q: typeof ComplianceQuery.infer): Promise<Response> => {
    const overdueDays = q.overdueDays ?? 14;
    const [summary, items] = await Promise.all([
      complianceSummary(s.sql, principal.organizationId, principal, scopeOf(q), overdueDays),
      complianceRows(s.sql, principal.organizationId, principal, scopeOf(q), overdueDays, MAX_REPORT_ROWS, 0),
    ]);
    const stamp = new Date().toISOString().slice(0, 10);
    const headers = (type: string, ext: string) => ({
      "content-type": type,
      "content-disposition": `attachment; filename="patch-compliance-${stamp}.${ext}"`,
      "cache-control": "no-store",
    });
    if (q.format === "csv") return new Response(complianceCsv(items), { headers: headers("text/csv; charset=utf-8", "csv") });
    const pdf = await compliancePdf({
      organization: await organizationName(s.sql, principal.organizationId),
      generatedAt: new Date(),
      overdueDays,
      summary,
      rows: items,
    });
    return new Response(new Blob([pdf as Uint8Array<ArrayBuffer>], { type: "application/pdf" }), {
      headers: headers("application/pdf", "pdf"),
    });
  };

  const perDevice = new Elysia({ prefix: "/api/v1/devices/:id" })
    .use(authPlugin(s.sql))
    .get(
      "/software",
      async ({ params, query, principal }) => {
        await reach(principal, params.id);
        return deviceSoftware(s.sql, params.id, query.q, query.limit ?? MAX_LIST);
      },
      {
        permission: "device:view",
        params: DeviceParam,
        query: type({ "q?": "0 < string <= 128", "limit?": Limit }),
        response: { 200: type({ items: Software.array(), total: "number" }), ...errors(404, 422) },
        detail: { summary: "The device's installed software (name, version, publisher, install date, source)", tags: ["patches"] },
      },
    )
    .get(
      "/updates",
      async ({ params, query, principal }) => {
        await reach(principal, params.id);
        return {
          items: (await listUpdates(
            s.sql,
            principal.organizationId,
            principal,
            { deviceId: params.id, ...query },
            query.limit ?? MAX_LIST,
          )) as UpdateOut[],
        };
      },
      {
        permission: "device:view",
        params: DeviceParam,
        query: DeviceUpdatesQuery,
        response: { 200: listOf(Update), ...errors(404, 422) },
        detail: { summary: "The device's updates with their state and approval", tags: ["patches"] },
      },
    )
    .post(
      "/updates/scan",
      async ({ params, query, principal, server, request }) => {
        await reach(principal, params.id);
        const summary = await patches.scan(principal.organizationId, params.id, query.refresh !== "false");
        await writeAudit(s.sql, {
          ...auditActor(principal.organizationId, principalActor(principal)),
          action: "patch.scan",
          targetType: "device",
          targetId: params.id,
          ip: ipOf(server, request),
          details: { updates: summary.updates, security: summary.security, inventory: summary.inventory.mode },
        });
        return summary;
      },
      {
        permission: "device:manage",
        query: type({
          "refresh?": type("'true' | 'false'").configure({
            description: "refresh the package lists first (apt-get update…): true by default",
          }),
        }),
        params: DeviceParam,
        response: { 200: ScanSummary, ...errors(404, 409, 422, 429, 503) },
        detail: { summary: "Scan the device now: refresh its package lists, read its software and pending updates", tags: ["patches"] },
      },
    )
    .post(
      "/updates/install",
      async ({ params, body, principal, server, request, set }) => {
        await reach(principal, params.id);
        const rows = await reachable(principal, body.updateIds, params.id);
        const refused = rows.find((r) => r.approval === "denied" || r.approval === "excluded");
        if (refused)
          throw new AppError(
            409,
            refused.approval === "denied" ? "UPDATE_DENIED" : "UPDATE_EXCLUDED",
            `${refused.name} ${refused.version} is ${refused.approval}: it is never installed`,
            {
              updateId: refused.id,
            },
          );
        const done = rows.find((r) => r.state === "installing" || r.state === "installed" || r.state === "resolved");
        if (done) throw new AppError(409, "UPDATE_NOT_PENDING", `${done.name} ${done.version} is ${done.state}`, { updateId: done.id });
        const [cmd] = await patches.install({
          organizationId: principal.organizationId,
          updates: rows,
          actor: principalActor(principal),
          reboot: body.reboot ?? "never",
          rebootDelaySeconds: body.rebootDelaySeconds ?? 300,
          expiresInMs: 24 * 3600_000,
          ip: ipOf(server, request),
        });
        if (!cmd) throw new Error("no install command was queued");
        set.status = 202;
        return cmd;
      },
      {
        permission: "patch:approve",
        params: DeviceParam,
        body: InstallBody,
        response: { 202: type({ deviceId: "string", commandId: "string", updates: "number" }), ...errors(404, 409, 422) },
        detail: {
          summary: "Install these updates on the device now (one command: live output, a result per update, audited)",
          description: "Denied or excluded updates are refused (409); an update id of another device is 404 `UPDATE_NOT_ON_DEVICE`.",
          tags: ["patches"],
        },
      },
    );

  const fleet = new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
    .get(
      "/software",
      async ({ query, principal }) => {
        const prefix = query.q.endsWith("*");
        const rows = await fleetSoftware(
          s.sql,
          principal.organizationId,
          principal,
          prefix ? query.q.slice(0, -1) : query.q,
          prefix,
          MAX_FLEET_ROWS,
        );
        const cond = query.version ? /^(<=|>=|<|>|=)\s*(.+)$/.exec(query.version) : null;
        const keep = (v: string) => {
          if (!cond) return true;
          const c = compareVersions(v, cond[2] ?? "");
          return { "<": c < 0, "<=": c <= 0, "=": c === 0, ">=": c >= 0, ">": c > 0 }[cond[1] as "<"];
        };
        const items = rows.filter((r) => keep(r.version));
        return { items: items.slice(0, query.limit ?? MAX_LIST), total: items.length, devices: new Set(items.map((i) => i.deviceId)).size };
      },
      {
        permission: "device:view",
        query: type({ q: SoftwareName, "version?": VersionCondition, "limit?": Limit }),
        response: { 200: type({ items: FleetItem.array(), total: "number", devices: "number" }), ...errors(422) },
        detail: { summary: 'Which devices have a program, optionally at a version ("zoom" below 6: q=zoom&version=<6)', tags: ["patches"] },
      },
    )
    .get(
      "/updates",
      async ({ query, principal }) => ({
        items: (await listUpdates(s.sql, principal.organizationId, principal, query, query.limit ?? MAX_LIST)) as UpdateOut[],
      }),
      {
        permission: "device:view",
        query: UpdatesQuery,
        response: { 200: listOf(Update), ...errors(422) },
        detail: { summary: "Updates across the devices you reach, by classification, state and approval", tags: ["patches"] },
      },
    )
    .post(
      "/updates/approvals",
      async ({ body, principal, server, request }) => {
        if (isScoped(principal) && body.scope === "organization")
          throw new Forbidden(
            "APPROVAL_NEEDS_ORGANIZATION",
            "a decision for the whole organization reaches devices beyond your clients: decide for your devices (scope devices)",
          );
        const rows = await reachable(principal, body.updateIds);
        const actor = principalActor(principal);
        if (isScoped(principal) || body.scope === "devices") {
          // for the updates' own devices, one by one: asked for (the device page decides for its device), or
          // because a technician limited to some clients cannot decide for devices they do not see
          const keys = rows.map((r) => ({ deviceId: r.deviceId, source: r.source, name: r.name, version: r.version }));
          const changed = await decideForDevices(s.sql, principal.organizationId, keys, body.decision, actor);
          if (changed > 0) await refreshCounts(s.sql, [...new Set(keys.map((k) => k.deviceId))]);
          await writeAudit(s.sql, {
            ...auditActor(principal.organizationId, actor),
            action: `patch.${body.decision}`,
            ip: ipOf(server, request),
            details: {
              scope: "devices",
              updates: keys.slice(0, 50).map((k) => `${k.deviceId}:${k.source}:${k.name}=${k.version}`),
              changed,
            },
          });
          return { decided: keys.length, changed, scope: "devices" as const };
        }
        const keys = [...new Map(rows.map((r) => [`${r.source}\u0000${r.name}\u0000${r.version}`, r])).values()];
        const changed = await decide(s.sql, principal.organizationId, keys, body.decision, actor);
        // a denied update no longer counts as missing (and an approved one again does)
        if (changed > 0) await refreshCounts(s.sql, await devicesWith(s.sql, principal.organizationId, keys));
        await writeAudit(s.sql, {
          ...auditActor(principal.organizationId, actor),
          action: `patch.${body.decision}`,
          ip: ipOf(server, request),
          details: { scope: "organization", updates: keys.slice(0, 50).map((k) => `${k.source}:${k.name}=${k.version}`), changed },
        });
        return { decided: keys.length, changed, scope: "organization" as const };
      },
      {
        permission: "patch:approve",
        body: ApprovalBody,
        response: {
          200: type({ decided: "number", changed: "number", scope: "'organization' | 'devices'" }),
          ...errors(403, 404, 422),
        },
        detail: {
          summary: "Approve or deny updates (for that version on every device of the organization, or on your devices only)",
          description:
            "scope organization (the default for a user of the whole organization): for that version on every device. scope devices (the only one for a user limited to some clients, whose organization-wide decision would reach devices they cannot see: 403 `APPROVAL_NEEDS_ORGANIZATION`): for each update's own device alone. A denial at either level wins. An update id that is not one of your devices' updates is 404 `UPDATE_NOT_FOUND` and nothing is decided.",
          tags: ["patches"],
        },
      },
    )
    .get("/patch-policies", async ({ principal }) => ({ items: await listPatchPolicies(s.sql, principal.organizationId) }), {
      permission: "device:view",
      response: { 200: listOf(PatchPolicy) },
      detail: { summary: "Patch settings of the organization's policies", tags: ["patches"] },
    })
    .post(
      "/patch-policies",
      async ({ body, principal, server, request, set }) => {
        const owns = await ownsPolicyAndGroup(s.sql, principal.organizationId, body.policyId, body.pilotGroupId ?? null);
        if (!owns.policy) throw new NotFound("POLICY_NOT_FOUND", "no such policy in your organization");
        if (!owns.group) throw new NotFound("GROUP_NOT_FOUND", "no such smart group in your organization");
        checkWindow(body.window);
        const id = await insertPatchPolicy(s.sql, principal.organizationId, policyInput(body));
        await writeAudit(s.sql, {
          ...auditActor(principal.organizationId, principalActor(principal)),
          action: "patch_policy.create",
          targetType: "patch_policy",
          targetId: id,
          ip: ipOf(server, request),
          details: { policyId: body.policyId, autoApprove: body.autoApprove ?? [], window: body.window ?? null },
        });
        set.status = 201;
        return (await getPatchPolicy(s.sql, principal.organizationId, id)) as typeof PatchPolicy.infer;
      },
      {
        permission: "policy:manage",
        body: PatchPolicyBody,
        response: { 201: PatchPolicy, ...errors(404, 409, 422) },
        detail: { summary: "Give a policy patch settings (auto-approval, deferral, rings, window, reboot, exclusions)", tags: ["patches"] },
      },
    )
    .get(
      "/patch-policies/:id",
      async ({ params, principal }) => {
        const p = await getPatchPolicy(s.sql, principal.organizationId, params.id);
        if (!p) throw new NotFound("PATCH_POLICY_NOT_FOUND", "no such patch policy in your organization");
        return p;
      },
      {
        permission: "device:view",
        params: IdParam,
        response: { 200: PatchPolicy, ...errors(404, 422) },
        detail: { summary: "One patch policy", tags: ["patches"] },
      },
    )
    .put(
      "/patch-policies/:id",
      async ({ params, body, principal, server, request }) => {
        const before = await getPatchPolicy(s.sql, principal.organizationId, params.id);
        if (!before) throw new NotFound("PATCH_POLICY_NOT_FOUND", "no such patch policy in your organization");
        if (body.policyId !== before.policyId)
          throw new ValidationFailed("the policy of patch settings cannot change", { field: "policyId" });
        const owns = await ownsPolicyAndGroup(s.sql, principal.organizationId, body.policyId, body.pilotGroupId ?? null);
        if (!owns.group) throw new NotFound("GROUP_NOT_FOUND", "no such smart group in your organization");
        checkWindow(body.window);
        await updatePatchPolicy(s.sql, principal.organizationId, params.id, policyInput(body));
        await writeAudit(s.sql, {
          ...auditActor(principal.organizationId, principalActor(principal)),
          action: "patch_policy.update",
          targetType: "patch_policy",
          targetId: params.id,
          ip: ipOf(server, request),
          details: { autoApprove: body.autoApprove ?? [], window: body.window ?? null, reboot: body.reboot ?? "if_needed" },
        });
        return (await getPatchPolicy(s.sql, principal.organizationId, params.id)) as typeof PatchPolicy.infer;
      },
      {
        permission: "policy:manage",
        params: IdParam,
        body: PatchPolicyBody,
        response: { 200: PatchPolicy, ...errors(404, 422) },
        detail: { summary: "Change a policy's patch settings", tags: ["patches"] },
      },
    )
    .delete(
      "/patch-policies/:id",
      async ({ params, principal, server, request }) => {
        if (!(await deletePatchPolicy(s.sql, principal.organizationId, params.id)))
          throw new NotFound("PATCH_POLICY_NOT_FOUND", "no such patch policy in your organization");
        await writeAudit(s.sql, {
          ...auditActor(principal.organizationId, principalActor(principal)),
          action: "patch_policy.delete",
          targetType: "patch_policy",
          targetId: params.id,
          ip: ipOf(server, request),
        });
        return { ok: true as const };
      },
      {
        permission: "policy:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Remove a policy's patch settings", tags: ["patches"] },
      },
    )
    .post(
      "/patch-policies/:id/window",
      async ({ params, body, principal, server, request }) => {
        const p = await getPatchPolicy(s.sql, principal.organizationId, params.id);
        if (!p) throw new NotFound("PATCH_POLICY_NOT_FOUND", "no such patch policy in your organization");
        const now = new Date();
        const minutes = body.durationMinutes ?? p.window?.durationMinutes ?? 120;
        const endsAt = new Date(now.getTime() + minutes * 60_000);
        const ip = ipOf(server, request);
        const r = await scheduler.openWindow(p, now, endsAt, principalActor(principal), ip);
        await writeAudit(s.sql, {
          ...auditActor(principal.organizationId, principalActor(principal)),
          action: "patch.window_open",
          targetType: "patch_policy",
          targetId: p.id,
          ip,
          details: { endsAt: endsAt.toISOString(), devices: r.devices, updates: r.updates },
        });
        return { startsAt: now, endsAt, devices: r.devices, updates: r.updates };
      },
      {
        permission: "patch:approve",
        params: IdParam,
        body: OpenWindowBody,
        response: { 200: type({ startsAt: Timestamp, endsAt: Timestamp, devices: "number", updates: "number" }), ...errors(404, 422) },
        detail: {
          summary: "Open a maintenance window now: every device under the policy installs its approved updates",
          tags: ["patches"],
        },
      },
    )
    .get(
      "/reports/patch-compliance",
      async ({ query, principal }) => {
        // a Response goes out as it is (no schema check); the cast only keeps the route's typing on the JSON answer
        if (query.format === "csv" || query.format === "pdf")
          return (await complianceFile(principal, query)) as unknown as Awaited<ReturnType<typeof complianceJson>>;
        return complianceJson(principal, query);
      },
      {
        permission: "device:view",
        query: ComplianceQuery,
        response: { 200: ComplianceReport, ...errors(422) },
        detail: {
          summary: "Patch compliance of the devices you reach (organization, or one client, site or smart group): JSON, CSV or PDF",
          description:
            "Compliant: no critical or security update missing and no failed install. `overdueDays` (default 14) counts updates missing for longer.",
          tags: ["patches"],
        },
      },
    );

  return new Elysia().use(perDevice).use(fleet);
}
