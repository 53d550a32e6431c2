import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import { isScoped, type Reach, reachKey, reachOf } from "../auth/permissions.ts";
import { authPlugin } from "../auth/plugin.ts";
import { type Principal, actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { AppError, BadRequest, Forbidden, NotFound } from "../errors.ts";
import { pageLimit } from "../http.ts";
import { IdParam, Ok, Timestamp, errors, pageOf } from "../lib/schemas.ts";
import { DeviceFacts } from "../protocol/telemetry.ts";
import { telemetryRange } from "../telemetry/store.ts";
import { siteInOrganization } from "../sites/store.ts";
import { deviceInReach } from "./reach.ts";
import { JsonBody } from "../ops/compression.ts";
import { ListCounts, SharedReads } from "./list-counts.ts";
import {
  type DeviceSort,
  type PageAfter,
  countDevices,
  deleteDevice,
  getDevice,
  listDevicePage,
  statusCounts,
  updateDevicePlacement,
} from "./store.ts";

const ListQuery = type({
  "status?": "'online' | 'unresponsive' | 'offline'",
  "q?": "string <= 200",
  "siteId?": "string.uuid",
  "tag?": "0 < string <= 128",
  "os?": "'linux' | 'windows' | 'darwin'",
  /** Members of this smart group. */
  "groupId?": "string.uuid",
  "limit?": type("string.integer.parse").pipe(type("1 <= number <= 500")),
  "cursor?": "string <= 1000",
  "sort?": "'hostname' | 'status' | 'lastSeen' | 'cpu' | 'memory' | 'disk'",
  "order?": "'asc' | 'desc'",
});
const Status = type("'online' | 'unresponsive' | 'offline'");
/** A tag: `key` or `key=value`, as at enrollment. */
export const Tag = type(/^[A-Za-z0-9_.:-]{1,64}(=[^\s]{0,63})?$/);
const DeviceChange = type({ "siteId?": "string.uuid", "tags?": Tag.array().atMostLength(32) });
const LatestTelemetry = type({
  /** Read from JSON in SQL: an ISO string at run time. */
  time: "Date | string",
  cpuPercent: "number",
  memoryPercent: "number",
  diskPercent: "number",
  swapPercent: "number",
  load1: "number",
  networkRxBps: "number",
  networkTxBps: "number",
  uptimeSeconds: "number",
});
const DeviceSummary = type({
  id: "string",
  hostname: "string",
  os: "string",
  osName: "string",
  osVersion: "string",
  arch: "string",
  agentVersion: "string",
  status: Status,
  lastSeenAt: Timestamp.or("null"),
  siteId: "string",
  siteName: "string",
  clientName: "string",
  tags: "string[]",
  telemetry: LatestTelemetry.or("null"),
});
const DeviceDetail = DeviceSummary.and({
  serialNumber: "string",
  kernel: "string",
  cpuModel: "string",
  cpuCores: "number",
  memoryTotalBytes: "number",
  nics: DeviceFacts.get("nics"),
  disks: DeviceFacts.get("disks"),
  statusChangedAt: Timestamp,
  createdAt: Timestamp,
});
const TelemetryPoint = type({
  time: Timestamp,
  cpuPercent: "number",
  cpuPercentMax: "number",
  memoryPercent: "number",
  swapPercent: "number",
  diskPercent: "number",
  load1: "number",
  networkRxBps: "number",
  networkTxBps: "number",
  diskReadBps: "number",
  diskWriteBps: "number",
  samples: "number",
});
const TelemetryQuery = type({
  "from?": "string.date.iso.parse",
  "to?": "string.date.iso.parse",
  "bucketSeconds?": type("string.integer.parse").pipe(type("1 <= number <= 2592000")),
});
const DisconnectBody = type({
  "retryAfterSeconds?": "0 <= number.integer <= 3600",
});

/**
 * Up to this many matches the list's `total` is exact; past it the count stops and says so
 * (`totalExact: false`, shown as "1,000+"), so a first page never counts a whole fleet: counting
 * 1,001 index entries costs about a millisecond, counting 100,000 a hundred times that. (The fleet's
 * exact size per status is `GET /api/v1/devices/counts`.)
 */
const COUNT_CAP = 1_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a cursor carries: where the next page starts, under which sort and filter, and the first page's count. */
interface Cursor {
  sort: DeviceSort;
  desc: boolean;
  /** Hash of the filter the cursor was issued for. */
  filter: string;
  after: PageAfter;
  total: number;
  exact: boolean;
}

const ITEMS_OPEN = Buffer.from('{"items":');

/** What narrows the list: a cursor is bound to them (by hash), a shared read to them exactly. */
const FILTERS = ["status", "q", "siteId", "tag", "os", "groupId", "reach"] as const;

const filterHash = (q: Record<string, unknown>) =>
  Bun.hash(JSON.stringify(FILTERS.map((k) => q[k] ?? null)))
    .toString(36)
    .slice(0, 10);

const encodeCursor = (c: Cursor) =>
  Buffer.from(
    JSON.stringify({ s: c.sort, d: c.desc ? 1 : 0, f: c.filter, k: c.after.key, i: c.after.id, n: c.total, x: c.exact ? 1 : 0 }),
  ).toString("base64url");

const badCursor = (message = "cursor is not one this server issued") => new AppError(422, "INVALID_CURSOR", message);

/**
 * The cursor is opaque base64url JSON. Anything but a well-formed one of the request's sort, order
 * and filter is 422 `INVALID_CURSOR` (it could only start a page somewhere arbitrary).
 */
function decodeCursor(raw: string, sort: DeviceSort, desc: boolean, filter: string): Cursor {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  if (typeof v !== "object" || v === null) throw badCursor();
  const { s, d, f, k, i, n, x } = v;
  const keys = Array.isArray(k) ? k : [];
  const keyCount = s === "status" ? 2 : 1;
  const metric = s === "cpu" || s === "memory" || s === "disk" || s === "lastSeen";
  const keysOk =
    keys.length === keyCount &&
    keys.every((key) => (typeof key === "string" && key.length <= 300 && !key.includes("\0")) || (key === null && metric)) &&
    (s !== "status" || /^[0-2]$/.test(String(keys[0]))) &&
    (!metric ||
      keys[0] === null ||
      (s === "lastSeen" ? !Number.isNaN(Date.parse(String(keys[0]))) : /^-?[0-9.e+-]{1,40}$/i.test(String(keys[0]))));
  if (typeof i !== "string" || !UUID.test(i) || !keysOk || !Number.isInteger(n) || (n as number) < 0 || (x !== 0 && x !== 1))
    throw badCursor();
  if (s !== sort || d !== (desc ? 1 : 0)) throw badCursor("this cursor belongs to another sort order");
  if (f !== filter) throw badCursor("this cursor belongs to other filters");
  return { sort, desc, filter, after: { key: keys as (string | null)[], id: i }, total: n as number, exact: x === 1 };
}

/** Fleet: device list with filters and cursor paging, detail, telemetry history, delete, socket cut. */
export function deviceRoutes(s: Pick<Services, "agents" | "bus" | "sql">) {
  const counts = new ListCounts(s.bus);
  const reads = new SharedReads(s.bus);
  /** The device, 404 unless the caller reaches it (organization, and chosen clients for a scoped user). */
  const mustFind = async (principal: Principal, id: string) => {
    const d = (await deviceInReach(s.sql, principal, id)) && (await getDevice(s.sql, principal.organizationId, id));
    if (!d) throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
    return d;
  };
  /**
   * One page of the device list, keyset-paged under every sort. The first page counts (up to
   * COUNT_CAP); later pages carry that count in their cursor instead of counting again.
   */
  const listPage = async (request: Request, organizationId: string, query: typeof ListQuery.infer & { reach: Reach | null }) => {
    const limit = pageLimit(query.limit);
    const sort = query.sort ?? "hostname";
    const desc = query.order === "desc";
    const filter = filterHash(query);
    const cursor = query.cursor ? decodeCursor(query.cursor, sort, desc, filter) : undefined;
    const key = JSON.stringify([organizationId, sort, desc, limit, query.cursor ?? null, ...FILTERS.map((k) => query[k] ?? null)]);
    const body = await reads.share(organizationId, key, () => readPage(organizationId, query, { limit, sort, desc, filter, cursor }));
    return body.respond(request) as unknown as {
      items: (typeof DeviceSummary.infer)[];
      nextCursor: string | null;
      total: number;
      totalExact: boolean;
    };
  };
  /** The page's body: its rows (JSON from PostgreSQL's bytes), the next cursor and the count. */
  const readPage = async (
    organizationId: string,
    query: typeof ListQuery.infer & { reach: Reach | null },
    { limit, sort, desc, filter, cursor }: { limit: number; sort: DeviceSort; desc: boolean; filter: string; cursor: Cursor | undefined },
  ) => {
    const count = () =>
      counts.get(
        `list ${JSON.stringify([organizationId, ...FILTERS.map((k) => query[k] ?? null)])}`,
        () => countDevices(s.sql, organizationId, query, COUNT_CAP),
        (t) => !t.exact,
      );
    let total = cursor ? { n: cursor.total, exact: cursor.exact } : undefined;
    // a metric sort under a filter, and the status sort under a search, count first: when few devices
    // match (an exact count, at most COUNT_CAP) those few are sorted, instead of walking the sort's
    // index past everything the filter drops (the matches may all lie at its far end; a search has no
    // index on `devices`). Otherwise the page comes first and a short first page is its own count (a
    // narrow search in hostname order walks `device_search` and never counts).
    const metric = sort === "cpu" || sort === "memory" || sort === "disk" || sort === "lastSeen";
    const filtered = Boolean(
      query.status || query.q || query.siteId || query.tag || query.os || query.groupId || (query.reach && isScoped(query.reach)),
    );
    const countFirst = filtered && (metric || (sort === "status" && Boolean(query.q)));
    if (!total && countFirst) total = await count();
    const few = countFirst && total?.exact === true;
    const page = await listDevicePage(s.sql, organizationId, query, { limit, sort, desc, after: cursor?.after, few });
    total ??= page.walked < limit ? { n: page.length, exact: true } : await count();
    const next =
      page.walked < limit || !page.last ? null : encodeCursor({ sort, desc, filter, after: page.last, total: total.n, exact: total.exact });
    // the rows are JSON already (written from PostgreSQL's bytes): the body is assembled, not re-serialised
    return new JsonBody(
      Buffer.concat([
        ITEMS_OPEN,
        page.json,
        Buffer.from(`,"nextCursor":${JSON.stringify(next)},"total":${total.n},"totalExact":${total.exact}}`, "latin1"),
      ]),
    );
  };
  return new Elysia({ prefix: "/api/v1/devices" })
    .use(authPlugin(s.sql))
    .get("/", ({ request, query, principal }) => listPage(request, principal.organizationId, { ...query, reach: reachOf(principal) }), {
      permission: "device:view",
      query: ListQuery,
      response: { 200: pageOf(DeviceSummary).and({ totalExact: "boolean" }), ...errors(422) },
      detail: {
        summary: "Devices, filtered, sorted and paged",
        description:
          "Keyset-paged under every sort (`nextCursor` is opaque; a cursor of another sort, order or filter is 422 `INVALID_CURSOR`). " +
          `\`total\` is exact up to ${COUNT_CAP.toLocaleString("en")} matches; past that it is ${COUNT_CAP.toLocaleString("en")} with \`totalExact: false\`. ` +
          "`q` matches a substring of the hostname, OS name, serial number or tags, case-insensitively.",
        tags: ["devices"],
      },
    })
    .get(
      "/counts",
      // a big fleet's cards are counted at most every 10 s between status changes (a scan of every device)
      ({ principal }) =>
        counts.get(
          `status ${principal.organizationId} ${reachKey(principal)}`,
          () => statusCounts(s.sql, principal.organizationId, principal),
          (c) => c.online + c.unresponsive + c.offline > COUNT_CAP,
        ),
      {
        permission: "device:view",
        response: { 200: type({ online: "number", unresponsive: "number", offline: "number" }) },
        detail: { summary: "Device counts per status", tags: ["devices"] },
      },
    )
    .get("/:id", ({ params, principal }) => mustFind(principal, params.id), {
      permission: "device:view",
      params: IdParam,
      response: { 200: DeviceDetail, ...errors(404, 422) },
      detail: {
        summary: "One device with its facts and latest telemetry",
        tags: ["devices"],
      },
    })
    .get(
      "/:id/telemetry",
      async ({ params, query, principal }) => {
        await mustFind(principal, params.id);
        const to = query.to ?? new Date();
        const from = query.from ?? new Date(to.getTime() - 3600_000);
        if (from >= to) throw new BadRequest("INVALID_RANGE", "from must be before to");
        if (to.getTime() - from.getTime() > 400 * 86_400_000) throw new BadRequest("INVALID_RANGE", "a range may span at most 400 days");
        const span = (to.getTime() - from.getTime()) / 1000;
        const bucketSeconds = query.bucketSeconds ?? Math.max(1, Math.ceil(span / 300));
        if (span / bucketSeconds > 5000) throw new BadRequest("TOO_MANY_POINTS", "pick a larger bucketSeconds (at most 5000 points)");
        return {
          ...(await telemetryRange(s.sql, params.id, from, to, bucketSeconds)),
          bucketSeconds,
        };
      },
      {
        permission: "device:view",
        params: IdParam,
        query: TelemetryQuery,
        response: {
          200: type({ points: TelemetryPoint.array(), source: "'raw' | 'rollup'", bucketSeconds: "number" }),
          ...errors(400, 404, 422),
        },
        detail: { summary: "Telemetry history in buckets", tags: ["devices"] },
      },
    )
    .delete(
      "/:id",
      async ({ params, principal }) => {
        if (!(await deviceInReach(s.sql, principal, params.id)) || !(await deleteDevice(s.sql, principal.organizationId, params.id)))
          throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
        s.agents.disconnect(params.id, 0);
        s.bus.publish("device.changed", { deviceIds: [params.id] });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "device.deleted",
          targetType: "device",
          targetId: params.id,
        });
        return { ok: true };
      },
      {
        permission: "device:delete",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: {
          summary: "Remove a device and its history",
          tags: ["devices"],
        },
      },
    )
    .patch(
      "/:id",
      async ({ params, body, principal }) => {
        if (!(await deviceInReach(s.sql, principal, params.id)))
          throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
        if (body.siteId && isScoped(principal))
          throw new Forbidden("CLIENT_SCOPED", "a user limited to chosen clients or groups cannot move devices");
        if (body.siteId && !(await siteInOrganization(s.sql, principal.organizationId, body.siteId)))
          throw new NotFound("SITE_NOT_FOUND", "no such site in your organization");
        const tags = body.tags ? [...new Set(body.tags)] : undefined;
        const before = await updateDevicePlacement(s.sql, principal.organizationId, params.id, { siteId: body.siteId, tags });
        if (!before) throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
        s.bus.publish("device.changed", { deviceIds: [params.id] });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "device.updated",
          targetType: "device",
          targetId: params.id,
          details: {
            ...(body.siteId && body.siteId !== before.siteId ? { siteId: { before: before.siteId, after: body.siteId } } : {}),
            ...(tags ? { tags: { before: before.tags, after: tags } } : {}),
          },
        });
        return { ok: true };
      },
      {
        permission: "device:manage",
        params: IdParam,
        body: DeviceChange,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Move a device to another site of the organization and/or set its tags (key=value)", tags: ["devices"] },
      },
    )
    .post(
      "/:id/disconnect",
      async ({ params, body, principal }) => {
        await mustFind(principal, params.id);
        const seconds = body?.retryAfterSeconds ?? 0;
        const wasConnected = s.agents.disconnect(params.id, seconds);
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "device.disconnected",
          targetType: "device",
          targetId: params.id,
          details: { retryAfterSeconds: seconds },
        });
        return { ok: true, wasConnected };
      },
      {
        permission: "device:delete",
        params: IdParam,
        body: DisconnectBody,
        response: { 200: type({ ok: "true", wasConnected: "boolean" }), ...errors(404, 422) },
        detail: {
          summary: "Close the agent's socket; it may reconnect after retryAfterSeconds (beacons continue)",
          tags: ["devices"],
        },
      },
    );
}
