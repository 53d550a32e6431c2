import { type } from "arktype";
import { Elysia } from "elysia";
import { principalActor } from "../audit/actor.ts";
import { writeAudit } from "../audit/store.ts";
import { isScoped, reachOf } from "../auth/permissions.ts";
import { authPlugin } from "../auth/plugin.ts";
import { type Principal, actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { deviceInReach } from "../devices/reach.ts";
import { BadRequest, NotFound } from "../errors.ts";
import { pageLimit } from "../http.ts";
import { ActorRef, IdParam, Ok, Timestamp, errors, listOf, pageOf } from "../lib/schemas.ts";
import { acknowledgeAlert, addNote, alertDevice, alertExists, listAlerts, listNotes, resolveAlerts } from "./store.ts";

const ListQuery = type({
  "state?": "'pending' | 'firing' | 'resolved' | 'unresolved'",
  "severity?": "'info' | 'warning' | 'critical'",
  "deviceId?": "string.uuid",
  /** Alerts of devices with this tag (key or key=value), in this site or client, or in this smart group now. */
  "tag?": "0 < string <= 128",
  "siteId?": "string.uuid",
  "clientId?": "string.uuid",
  "groupId?": "string.uuid",
  "acknowledged?": type("'true' | 'false'").pipe((v) => v === "true"),
  "limit?": type("string.integer.parse").pipe(type("1 <= number <= 500")),
  "cursor?": "string <= 200",
});

const Alert = type({
  id: "string",
  deviceId: "string",
  deviceHostname: "string",
  type: "string",
  severity: "string",
  state: "string",
  message: "string",
  createdAt: Timestamp,
  acknowledgedAt: Timestamp.or("null"),
  acknowledgedBy: "string | null",
  resolvedAt: Timestamp.or("null"),
});
const Note = type({ id: "string", userId: "string | null", actor: ActorRef.or("null"), text: "string", createdAt: Timestamp });

/** The first page's count is exact up to this many alerts; past it `total` is this and `totalExact` false. */
const COUNT_CAP = 10_000;

/**
 * The cursor: the last alert's time and id, then the first page's count and whether it is exact, so
 * later pages do not count again (a cursor without them, issued before, still pages; that page counts).
 */
function decodeCursor(
  cursor: string | undefined,
): { before: { createdAt: string; id: string }; total?: { n: number; exact: boolean } } | undefined {
  if (!cursor) return undefined;
  const [createdAt, id, n, x] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !/^[0-9a-f-]{36}$/i.test(id))
    throw new BadRequest("INVALID_CURSOR", "cursor is not one this server issued");
  const counted = n !== undefined && /^\d{1,5}$/.test(n) && Number(n) <= COUNT_CAP && (x === "0" || x === "1");
  return { before: { createdAt, id }, ...(counted ? { total: { n: Number(n), exact: x === "1" } } : {}) };
}

/** Alerts: list with filters, acknowledge. */
export function alertRoutes(s: Pick<Services, "live" | "sql">) {
  /** 404 for a client-scoped user when the alert's device is another client's (as for a missing alert). */
  const mustReach = async (principal: Principal, id: string) => {
    if (!isScoped(principal)) return;
    const deviceId = await alertDevice(s.sql, principal.organizationId, id);
    if (!deviceId || !(await deviceInReach(s.sql, principal, deviceId)))
      throw new NotFound("ALERT_NOT_FOUND", "no such alert in your organization");
  };
  return new Elysia({ prefix: "/api/v1/alerts" })
    .use(authPlugin(s.sql))
    .get(
      "/",
      async ({ query, principal }) => {
        const limit = pageLimit(query.limit);
        const cursor = decodeCursor(query.cursor);
        const read = await listAlerts(
          s.sql,
          principal.organizationId,
          { ...query, reach: reachOf(principal) },
          { limit, before: cursor?.before, countCap: cursor?.total ? undefined : COUNT_CAP },
        );
        const { items } = read;
        const total = cursor?.total ?? read.total ?? { n: 0, exact: true };
        const last = items.at(-1);
        const nextCursor =
          items.length === limit && last
            ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}|${total.n}|${total.exact ? 1 : 0}`).toString("base64url")
            : null;
        return { items, nextCursor, total: total.n, totalExact: total.exact };
      },
      {
        permission: "device:view",
        query: ListQuery,
        response: { 200: pageOf(Alert).and({ totalExact: "boolean" }), ...errors(400, 422) },
        detail: {
          summary: "Alerts, newest first",
          description: `\`total\` is exact up to ${COUNT_CAP.toLocaleString("en")} alerts; past that it is ${COUNT_CAP.toLocaleString("en")} with \`totalExact: false\`.`,
          tags: ["alerts"],
        },
      },
    )
    .post(
      "/:id/acknowledge",
      async ({ params, principal }) => {
        await mustReach(principal, params.id);
        const alert = await acknowledgeAlert(s.sql, principal.organizationId, params.id, principal.kind === "user" ? principal.id : null);
        if (!alert) throw new NotFound("ALERT_NOT_FOUND", "no such alert in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "alert.acknowledged",
          targetType: "alert",
          targetId: alert.id,
        });
        return alert;
      },
      {
        permission: "alert:manage",
        params: IdParam,
        response: { 200: Alert, ...errors(404, 422) },
        detail: { summary: "Acknowledge an alert", tags: ["alerts"] },
      },
    )
    .post(
      "/:id/resolve",
      async ({ params, principal }) => {
        await mustReach(principal, params.id);
        const [row] = await resolveAlerts(s.sql, { ids: [params.id], organizationId: principal.organizationId });
        if (!row) throw new NotFound("ALERT_NOT_FOUND", "no such open alert in your organization");
        await writeAudit(s.sql, { ...actorOf(principal), action: "alert.resolved", targetType: "alert", targetId: row.id });
        s.live.publish(principal.organizationId, {
          type: "alert.resolved",
          alertId: row.id,
          deviceId: row.deviceId,
          alertType: "",
          severity: "",
          message: "resolved by hand",
        });
        return { ok: true };
      },
      {
        permission: "alert:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Resolve an alert by hand", tags: ["alerts"] },
      },
    )
    .get(
      "/:id/notes",
      async ({ params, principal }) => {
        await mustReach(principal, params.id);
        if (!(await alertExists(s.sql, principal.organizationId, params.id)))
          throw new NotFound("ALERT_NOT_FOUND", "no such alert in your organization");
        return { items: await listNotes(s.sql, principal.organizationId, params.id) };
      },
      {
        permission: "device:view",
        params: IdParam,
        response: { 200: listOf(Note), ...errors(404, 422) },
        detail: { summary: "Notes on an alert", tags: ["alerts"] },
      },
    )
    .post(
      "/:id/notes",
      async ({ params, body, principal, set }) => {
        await mustReach(principal, params.id);
        const note = await addNote(s.sql, principal.organizationId, params.id, principalActor(principal), body.text);
        if (!note) throw new NotFound("ALERT_NOT_FOUND", "no such alert in your organization");
        await writeAudit(s.sql, { ...actorOf(principal), action: "alert.noted", targetType: "alert", targetId: params.id });
        set.status = 201;
        return note;
      },
      {
        permission: "alert:manage",
        params: IdParam,
        body: type({ text: "0 < string <= 4000" }),
        response: { 201: Note, ...errors(404, 422) },
        detail: { summary: "Add a note to an alert", tags: ["alerts"] },
      },
    );
}
