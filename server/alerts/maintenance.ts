import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import { actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { NotFound } from "../errors.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { currentWindows, deleteWindow, insertWindow } from "./store.ts";

const Window = type({
  name: "0 < string <= 200",
  scope: type({ type: "'organization'" })
    .or({ type: "'client' | 'site' | 'device' | 'group' | 'policy'", id: "string.uuid" })
    .or({ type: "'tag'", tag: "0 < string <= 128" }),
  startsAt: "string.date.iso.parse",
  endsAt: "string.date.iso.parse",
});

const WindowRow = type({
  id: "string",
  organizationId: "string",
  name: "string",
  scope: Window.get("scope"),
  startsAt: Timestamp,
  endsAt: Timestamp,
});

/** Maintenance windows: while one is open, rules in its scope do not fire (nor notify). */
export function maintenanceRoutes(s: Pick<Services, "rules" | "sql" | "bus">) {
  return new Elysia({ prefix: "/api/v1/maintenance-windows" })
    .use(authPlugin(s.sql))
    .get("/", async ({ principal }) => ({ items: await currentWindows(s.sql, principal.organizationId) }), {
      permission: "device:view",
      response: { 200: listOf(WindowRow) },
      detail: { summary: "Maintenance windows not yet over", tags: ["alerts"] },
    })
    .post(
      "/",
      async ({ body, principal, set }) => {
        const row = await insertWindow(s.sql, { organizationId: principal.organizationId, ...body });
        await s.rules.reloadRules();
        s.bus.publish("rules.changed", { organizationId: principal.organizationId });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "maintenance_window.created",
          targetType: "maintenance_window",
          targetId: row.id,
          details: { name: row.name },
        });
        set.status = 201;
        return row;
      },
      {
        permission: "maintenance:manage",
        body: Window,
        response: { 201: WindowRow, ...errors(422) },
        detail: { summary: "Open a maintenance window", tags: ["alerts"] },
      },
    )
    .delete(
      "/:id",
      async ({ params, principal }) => {
        if (!(await deleteWindow(s.sql, principal.organizationId, params.id)))
          throw new NotFound("WINDOW_NOT_FOUND", "no such maintenance window");
        await s.rules.reloadRules();
        s.bus.publish("rules.changed", { organizationId: principal.organizationId });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "maintenance_window.deleted",
          targetType: "maintenance_window",
          targetId: params.id,
        });
        return { ok: true };
      },
      {
        permission: "maintenance:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Close a maintenance window", tags: ["alerts"] },
      },
    );
}
