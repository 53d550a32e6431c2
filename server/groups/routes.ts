import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import { isScoped } from "../auth/permissions.ts";
import { authPlugin } from "../auth/plugin.ts";
import { actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { deviceIdsInReach } from "../devices/reach.store.ts";
import { listDevices } from "../devices/store.ts";
import { AppError, BadRequest, NotFound } from "../errors.ts";
import { pageLimit } from "../http.ts";
import { IdParam, Ok, Timestamp, errors, listOf, pageOf } from "../lib/schemas.ts";
import { ExpressionError, MAX_EXPRESSION_LENGTH, compileExpression } from "./expression.ts";
import { deleteGroup, getGroup, groupHistory, insertGroup, listGroups, updateGroup } from "./store.ts";

const GroupBody = type({ name: "0 < string <= 200", expression: `0 < string <= ${MAX_EXPRESSION_LENGTH}` });
const Group = type({
  id: "string",
  name: "string",
  expression: "string",
  memberCount: "number",
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const Member = type({
  id: "string",
  hostname: "string",
  os: "string",
  osName: "string",
  status: "string",
  siteName: "string",
  clientName: "string",
  tags: "string[]",
});
const PageQuery = type({
  "limit?": type("string.integer.parse").pipe(type("1 <= number <= 500")),
  "cursor?": "string <= 600",
});
const HistoryQuery = type({ "limit?": type("string.integer.parse").pipe(type("1 <= number <= 500")) });
const HistoryEntry = type({ deviceId: "string", hostname: "string | null", event: "'joined' | 'left'", at: Timestamp });

/** An expression the language rejects: 422 with the position (0-based) and, for an unknown field, its name. */
class InvalidExpression extends AppError {
  constructor(e: ExpressionError) {
    super(422, "INVALID_EXPRESSION", e.message, { position: e.position, ...(e.field ? { field: e.field } : {}) });
  }
}

function checkExpression(expression: string): void {
  try {
    compileExpression(expression);
  } catch (err) {
    if (err instanceof ExpressionError) throw new InvalidExpression(err);
    throw err;
  }
}

/** The members' cursor: base64url JSON of the (hostname, id) of the last row. */
function decodeCursor(cursor: string | undefined): { hostname: string; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (typeof v?.h === "string" && typeof v?.i === "string" && /^[0-9a-f-]{36}$/i.test(v.i)) return { hostname: v.h, id: v.i };
  } catch {}
  throw new BadRequest("INVALID_CURSOR", "cursor is not one this server issued");
}

/**
 * Smart groups: CRUD of named expressions (checked at save time) and their members, kept current
 * by the group engine (reactions.ts) on the `group.changed` event these routes publish.
 */
export function groupRoutes(s: Pick<Services, "bus" | "sql">) {
  const mustFind = async (organizationId: string, id: string) => {
    const g = await getGroup(s.sql, organizationId, id);
    if (!g) throw new NotFound("GROUP_NOT_FOUND", "no such group in your organization");
    return g;
  };
  return new Elysia({ prefix: "/api/v1/groups" })
    .use(authPlugin(s.sql))
    .get("/", async ({ principal }) => ({ items: await listGroups(s.sql, principal.organizationId) }), {
      permission: "device:view",
      response: { 200: listOf(Group) },
      detail: { summary: "Smart groups with their member counts", tags: ["groups"] },
    })
    .post(
      "/",
      async ({ body, principal, set }) => {
        checkExpression(body.expression);
        const id = await insertGroup(s.sql, principal.organizationId, body);
        await writeAudit(s.sql, { ...actorOf(principal), action: "group.created", targetType: "group", targetId: id, details: body });
        s.bus.publish("group.changed", { organizationId: principal.organizationId, groupId: id });
        set.status = 201;
        return { id };
      },
      {
        permission: "device:manage",
        body: GroupBody,
        response: { 201: type({ id: "string" }), ...errors(409, 422) },
        detail: { summary: "Create a smart group (an expression over facts, tags, place, status and telemetry)", tags: ["groups"] },
      },
    )
    .get("/:id", ({ params, principal }) => mustFind(principal.organizationId, params.id), {
      permission: "device:view",
      params: IdParam,
      response: { 200: Group, ...errors(404, 422) },
      detail: { summary: "One smart group", tags: ["groups"] },
    })
    .put(
      "/:id",
      async ({ params, body, principal }) => {
        checkExpression(body.expression);
        const before = await updateGroup(s.sql, principal.organizationId, params.id, body);
        if (!before) throw new NotFound("GROUP_NOT_FOUND", "no such group in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "group.updated",
          targetType: "group",
          targetId: params.id,
          details: { before, after: body },
        });
        s.bus.publish("group.changed", { organizationId: principal.organizationId, groupId: params.id });
        return { ok: true };
      },
      {
        permission: "device:manage",
        params: IdParam,
        body: GroupBody,
        response: { 200: Ok, ...errors(404, 409, 422) },
        detail: { summary: "Rename a smart group and/or change its expression", tags: ["groups"] },
      },
    )
    .delete(
      "/:id",
      async ({ params, principal }) => {
        const gone = await deleteGroup(s.sql, principal.organizationId, params.id);
        if (!gone) throw new NotFound("GROUP_NOT_FOUND", "no such group in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "group.deleted",
          targetType: "group",
          targetId: params.id,
          details: gone,
        });
        s.bus.publish("group.changed", { organizationId: principal.organizationId, groupId: params.id });
        return { ok: true };
      },
      {
        permission: "device:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Delete a smart group with its membership and history", tags: ["groups"] },
      },
    )
    .get(
      "/:id/devices",
      async ({ params, query, principal }) => {
        await mustFind(principal.organizationId, params.id);
        const limit = pageLimit(query.limit);
        const after = decodeCursor(query.cursor);
        const { items, total } = await listDevices(
          s.sql,
          principal.organizationId,
          { groupId: params.id, reach: principal },
          { limit, after },
        );
        const last = items.at(-1);
        const nextCursor =
          items.length < limit || !last ? null : Buffer.from(JSON.stringify({ h: last.hostname, i: last.id })).toString("base64url");
        return { items, nextCursor, total };
      },
      {
        permission: "device:view",
        params: IdParam,
        query: PageQuery,
        response: { 200: pageOf(Member), ...errors(400, 404, 422) },
        detail: { summary: "The group's devices now, by hostname, paged", tags: ["groups"] },
      },
    )
    .get(
      "/:id/history",
      async ({ params, query, principal }) => {
        await mustFind(principal.organizationId, params.id);
        const items = await groupHistory(s.sql, params.id, pageLimit(query.limit, 100));
        if (!isScoped(principal)) return { items };
        // a scoped user sees only the devices they reach come and go
        const reached = new Set(await deviceIdsInReach(s.sql, principal.organizationId, principal));
        return { items: items.filter((h) => reached.has(h.deviceId)) };
      },
      {
        permission: "device:view",
        params: IdParam,
        query: HistoryQuery,
        response: { 200: listOf(HistoryEntry), ...errors(404, 422) },
        detail: { summary: "Devices that joined and left the group, newest first", tags: ["groups"] },
      },
    );
}
