import { type } from "arktype";
import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin.ts";
import type { Services } from "../context.ts";
import { BadRequest } from "../errors.ts";
import { pageLimit } from "../http.ts";
import { Timestamp, errors, pageOf } from "../lib/schemas.ts";
import { log } from "../log.ts";
import { csvLine } from "./csv.ts";
import { type AuditFilter, type AuditRow, auditChunks, countAudit, listAudit } from "./store.ts";

/** Most rows one CSV export carries (newest first); a larger match sets `X-Export-Truncated`. */
const MAX_EXPORT_ROWS = 100_000;

const ActorType = type("'user' | 'api_key' | 'agent' | 'system' | 'rule' | 'workflow' | 'schedule'");
const AuditQuery = type({
  "actor?": type("0 < string <= 320").configure({ description: "an actor id (UUID), or part of the actor's name or e-mail" }),
  "actorType?": ActorType,
  "action?": type("0 < string <= 100").configure({ description: "an action, or a prefix ending in `.` or `*` (`command.`)" }),
  "targetType?": "0 < string <= 64",
  "targetId?": "string.uuid",
  "from?": type("string.date.iso.parse").configure({ description: "entries at or after this time" }),
  "to?": type("string.date.iso.parse").configure({ description: "entries before this time" }),
  "limit?": type("string.integer.parse").pipe(type("1 <= number <= 500")),
  "cursor?": "string <= 200",
  "format?": "'json' | 'csv'",
});
const AuditEntry = type({
  id: "string",
  createdAt: Timestamp,
  actorType: ActorType,
  actorId: "string | null",
  actorName: "string | null",
  action: "string",
  targetType: "string | null",
  targetId: "string | null",
  details: "Record<string, unknown>",
  ip: "string | null",
});

/** The first page's count is exact up to this many matches; past it `total` is this and `totalExact` false. */
const COUNT_CAP = 10_000;

/**
 * The cursor is base64url JSON of the last id seen (ids grow with time; the list is newest first) and
 * the first page's count (`n`, `x`: exact), so later pages do not count again. A cursor without the
 * count (issued before it was carried) still pages; that page counts.
 */
function decodeCursor(cursor: string | undefined): { beforeId: string; total?: { n: number; exact: boolean } } | undefined {
  if (!cursor) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (typeof v?.i === "string" && /^\d{1,19}$/.test(v.i)) {
      const counted = Number.isInteger(v.n) && v.n >= 0 && v.n <= COUNT_CAP && (v.x === 0 || v.x === 1);
      return { beforeId: v.i, ...(counted ? { total: { n: v.n as number, exact: v.x === 1 } } : {}) };
    }
  } catch {}
  throw new BadRequest("INVALID_CURSOR", "cursor is not one this server issued");
}
const encodeCursor = (id: string, total: { n: number; exact: boolean }) =>
  Buffer.from(JSON.stringify({ i: id, n: total.n, x: total.exact ? 1 : 0 })).toString("base64url");

const CSV_HEADER = ["time", "actor_type", "actor_id", "actor_name", "action", "target_type", "target_id", "ip", "details"];
const csvRow = (r: AuditRow) =>
  csvLine([r.createdAt, r.actorType, r.actorId, r.actorName, r.action, r.targetType, r.targetId, r.ip, r.details]);

/** A streamed CSV download of the chunks: the header line first, then each chunk as it is read. */
function csvResponse(chunks: AsyncIterable<AuditRow[]>, headers: Record<string, string>): Response {
  const encoder = new TextEncoder();
  const rows = chunks[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(csvLine(CSV_HEADER)));
    },
    async pull(controller) {
      try {
        const next = await rows.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value.map(csvRow).join("")));
      } catch (err) {
        log("error", "audit export failed", { error: err instanceof Error ? err.message : String(err) });
        controller.error(err);
      }
    },
    async cancel() {
      await rows.return?.();
    },
  });
  return new Response(body, { headers });
}

/**
 * The audit log of the caller's organization: filtered, paged newest first, or the whole match
 * (up to 100,000 rows) as a streamed CSV with `format=csv`. Read only: no route changes or
 * deletes entries (and the database refuses it, migration 00019).
 */
export function auditRoutes(s: Pick<Services, "sql">) {
  /** One page, newest first; one row more is read to know whether another page follows. */
  const page = async (organizationId: string, query: typeof AuditQuery.infer) => {
    const limit = pageLimit(query.limit);
    const cursor = decodeCursor(query.cursor);
    const read = await listAudit(s.sql, organizationId, query, {
      limit: limit + 1,
      beforeId: cursor?.beforeId,
      countCap: cursor?.total ? undefined : COUNT_CAP,
    });
    const total = cursor?.total ?? read.total ?? { n: 0, exact: true };
    const shown = read.items.slice(0, limit);
    const last = shown.at(-1);
    return {
      items: shown,
      nextCursor: read.items.length > limit && last ? encodeCursor(last.id, total) : null,
      total: total.n,
      totalExact: total.exact,
    };
  };
  /** The whole match as CSV, streamed; the security headers already set on the request are kept. */
  const csv = async (organizationId: string, filter: AuditFilter, headers: Record<string, string>) => {
    const { n: total } = await countAudit(s.sql, organizationId, filter);
    const day = new Date().toISOString().slice(0, 10);
    return csvResponse(auditChunks(s.sql, organizationId, filter, MAX_EXPORT_ROWS), {
      ...headers,
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="sentpulse-audit-${day}.csv"`,
      "cache-control": "no-store",
      "x-total-count": String(total),
      ...(total > MAX_EXPORT_ROWS ? { "x-export-truncated": "true" } : {}),
    });
  };
  /** The page or the CSV (two promise types, not one promise of either: the route's typing wants it so). */
  const answer = (organizationId: string, query: typeof AuditQuery.infer, headers: Record<string, string>) => {
    if (query.from && query.to && query.from >= query.to) throw new BadRequest("INVALID_RANGE", "from must be before to");
    return query.format === "csv" ? csv(organizationId, query, headers) : page(organizationId, query);
  };
  return new Elysia({ prefix: "/api/v1/audit" })
    .use(authPlugin(s.sql))
    .get("/", ({ query, principal, set }) => answer(principal.organizationId, query, set.headers as Record<string, string>), {
      // the `audit:view` permission once named permissions land; admins until then
      permission: "audit:view",
      query: AuditQuery,
      response: { 200: pageOf(AuditEntry).and({ totalExact: "boolean" }), ...errors(400, 422) },
      detail: {
        summary: "Audit log of the organization: filtered and paged, or exported as CSV (format=csv, at most 100,000 rows)",
        description:
          `\`total\` is exact up to ${COUNT_CAP.toLocaleString("en")} matches; past that it is ${COUNT_CAP.toLocaleString("en")} with \`totalExact: false\`. ` +
          "`actor` is an actor id (UUID) or part of the actor's name or e-mail; `action` is exact, or a prefix when it ends " +
          "in `.` or `*`. With `format=csv` the answer is `text/csv` (newest first; `limit` and `cursor` do not apply; cells a " +
          "spreadsheet would read as formulas start with `'`), `X-Total-Count` the number matching, `X-Export-Truncated` set " +
          "when more than 100,000 matched.",
        tags: ["audit"],
        responses: {
          200: {
            description: "A page of entries, or with `format=csv` the CSV download",
            content: { "text/csv": { schema: { type: "string" } } },
          },
        },
      },
    });
}
