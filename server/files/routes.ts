import { type } from "arktype";
import { Elysia } from "elysia";
import { type Actor, principalActor } from "../audit/actor.ts";
import { auditActor, writeAudit } from "../audit/store.ts";
import { can } from "../auth/permissions.ts";
import { authPlugin } from "../auth/plugin.ts";
import type { Principal } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { deviceInReach } from "../devices/reach.ts";
import { AppError, Conflict, Forbidden, NotFound, ValidationFailed } from "../errors.ts";
import { errors, fileResponses, Ok, Timestamp } from "../lib/schemas.ts";
import { AccountName, AclChange, FileCount, FileList, FileOpResult, FilePath, FileStat, ReadChunk } from "../protocol/files.ts";
import { stagedResponse } from "./download.ts";
import { FileExplorer } from "./service.ts";
import {
  activeElevation,
  endElevation,
  getTransfer,
  insertElevation,
  insertTransfer,
  listTransfers,
  reusableDownload,
  type TransferRow,
} from "./store.ts";
import type { FileTransfers } from "./transfers.ts";
import { tusRoutes } from "./uploads.ts";

const DeviceParam = type({ id: "string.uuid" });
const Elevated = type("'true' | 'false'").configure({
  description: "act as root/SYSTEM: needs a running elevation of yours on this device",
});
// `path` is optional in the schemas so that a device out of reach is a 404 before a missing path is a 422
const PathQuery = type({ "path?": FilePath, "elevated?": Elevated });
const StatQuery = type({
  "path?": FilePath,
  "elevated?": Elevated,
  "acl?": type("'true' | 'false'").configure({
    description: "with the entry's access control list (Windows: icacls and Get-Acl; Linux: POSIX ACLs by getfacl)",
  }),
});
const ListQuery = type({
  "path?": FilePath.configure({ description: "the directory (default /)" }),
  "hidden?": type("'true' | 'false'"),
  "elevated?": Elevated,
});
const DownloadQuery = type({
  "path?": FilePath,
  "elevated?": Elevated,
  "rate?": type("string.integer.parse")
    .pipe(type("1024 <= number <= 100000000000"))
    .configure({ description: "cap of this transfer, bytes/s" }),
});
const common = { "elevated?": "boolean" } as const;
const OpBody = type({ op: "'mkdir'", path: FilePath, ...common })
  .or({ op: "'rename' | 'move' | 'copy'", path: FilePath, to: FilePath, "overwrite?": "boolean", ...common })
  .or({ op: "'delete'", path: FilePath, "recursive?": "boolean", ...common })
  .or({ op: "'chmod'", path: FilePath, mode: "0 <= number.integer <= 4095", ...common })
  .or({ op: "'chown'", path: FilePath, "owner?": AccountName, "group?": AccountName, ...common })
  .or({ op: "'acl'", path: FilePath, change: AclChange, ...common });
const SendBody = type({
  path: FilePath,
  toDeviceId: "string.uuid",
  toPath: FilePath,
  "overwrite?": "boolean",
  "elevated?": "boolean",
  "rate?": "1024 <= number.integer <= 100000000000",
});
const ElevationBody = type({ reason: "3 <= string <= 500" });
const Elevation = type({ id: "string", reason: "string", createdAt: Timestamp, expiresAt: Timestamp });
const Transfer = type({
  id: "string",
  deviceId: "string",
  direction: "'download' | 'upload'",
  path: "string",
  size: "number",
  doneBytes: "number",
  wireBytes: "number",
  sha256: "string | null",
  state: "string",
  error: "string | null",
  elevated: "boolean",
  rateLimitBps: "number | null",
  actorName: "string | null",
  createdAt: Timestamp,
  updatedAt: Timestamp,
  finishedAt: Timestamp.or("null"),
});
const TransferParams = type({ id: "string.uuid" });
/** How long an elevation lasts. */
const ELEVATION_MS = 15 * 60_000;
const deviceErrors = errors(403, 404, 409, 422, 429, 503);

function required(path: string | undefined): string {
  if (path === undefined)
    throw new ValidationFailed("invalid query: path", { in: "query", issues: [{ path: "path", message: "must be present" }] });
  return path;
}

/** What a transfer row shows through the API. */
function view(t: TransferRow, live?: { doneBytes: number; state: TransferRow["state"] }) {
  return {
    id: t.id,
    deviceId: t.deviceId,
    direction: t.direction,
    path: t.path,
    size: t.size,
    doneBytes: live?.doneBytes ?? t.doneBytes,
    wireBytes: t.wireBytes,
    sha256: t.sha256,
    state: live?.state ?? t.state,
    error: t.error,
    elevated: t.elevated,
    rateLimitBps: t.rateLimitBps,
    actorName: t.actorName,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    finishedAt: t.finishedAt,
  };
}

/**
 * The background file explorer of a device: list, properties, count, changes (mkdir, rename/move,
 * copy, delete, chmod, chown), downloads (HTTP Range, streamed while they arrive from the device),
 * uploads (tus, see uploads.ts), transfers (pause, resume, cancel) and elevation. Everything needs
 * `device:files`; acting as root/SYSTEM needs `device:files:elevate` and a running elevation (a
 * reason, 15 minutes, audited). Every change and transfer is audited with its actor and path.
 */
export function fileRoutes(s: Pick<Services, "sql" | "agents">, transfers: FileTransfers) {
  const explorer = new FileExplorer(s.sql, s.agents);
  const reach = async (principal: Principal, id: string) => {
    if (!(await deviceInReach(s.sql, principal, id))) throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
  };
  /** Whether the request acts elevated: only with the permission and a running elevation of this principal on this device. */
  const elevation = async (principal: Principal, deviceId: string, asked: boolean | undefined) => {
    if (!asked) return undefined;
    if (!can(principal, "device:files:elevate")) throw new Forbidden("FORBIDDEN", "your role does not allow elevated file access");
    const e = await activeElevation(s.sql, principal.id, deviceId);
    if (!e) throw new Conflict("ELEVATION_REQUIRED", "start an elevation with a reason first (POST …/files/elevation)");
    return e;
  };
  const ipOf = (server: { requestIP(r: Request): { address: string } | null } | null, request: Request) =>
    server?.requestIP(request)?.address ?? null;

  /**
   * The download of a file of the device into the staging area: the same unchanged file's transfer
   * when there is one (a browser resuming, a second request), else a new one, started.
   */
  const startDownload = async (
    principal: Principal,
    deviceId: string,
    path: string,
    e: { id: string } | undefined,
    rate: number | null,
    ip: string | null,
  ): Promise<TransferRow> => {
    const elevated = Boolean(e);
    const st = await explorer.ask(deviceId, { op: "stat", path, elevated }, FileStat);
    if (st.entry.type !== "file")
      throw new Conflict(
        "NOT_A_FILE",
        st.entry.type === "link" ? "a symlink: download its target by its own path" : `${path} is not a file`,
      );
    const known = await reusableDownload(s.sql, deviceId, path, st.entry.size, st.entry.mtime, elevated);
    if (known) {
      if (!transfers.isRunning(known.id) && ["queued", "running", "waiting"].includes(known.state)) transfers.run(known);
      return known;
    }
    const id = Bun.randomUUIDv7();
    // the first byte read now: a file the session may not read is refused here, not as a broken download
    await explorer.ask(
      deviceId,
      { op: "read", transferId: id, path, offset: 0, length: 1, size: st.entry.size, mtime: st.entry.mtime, elevated },
      ReadChunk,
    );
    if (!(await transfers.fits(st.entry.size)))
      throw new AppError(
        507,
        "STAGING_FULL",
        "the server's staging area is full; try again later or raise SENTPULSE_FILES_STAGING_QUOTA_BYTES",
      );
    const t = await insertTransfer(s.sql, {
      id,
      organizationId: principal.organizationId,
      deviceId,
      direction: "download",
      path,
      size: st.entry.size,
      sourceMtime: st.entry.mtime,
      state: "queued",
      elevated,
      overwrite: false,
      rateLimitBps: rate,
      stagingName: id,
      sha256: null,
      actor: principalActor(principal),
    });
    await writeAudit(s.sql, {
      ...auditActor(principal.organizationId, principalActor(principal)),
      action: "file.download.start",
      targetType: "device",
      targetId: deviceId,
      ip,
      details: { transferId: id, path, size: st.entry.size, elevated, ...(e ? { elevationId: e.id } : {}) },
    });
    transfers.run(t);
    return t;
  };

  const perDevice = new Elysia({ prefix: "/api/v1/devices/:id/files" })
    .use(authPlugin(s.sql))
    .get(
      "",
      async ({ params, query, principal }) => {
        await reach(principal, params.id);
        const e = await elevation(principal, params.id, query.elevated === "true");
        return explorer.ask(
          params.id,
          { op: "list", path: query.path ?? "/", hidden: query.hidden === "true", elevated: Boolean(e) },
          FileList,
        );
      },
      {
        permission: "device:files",
        params: DeviceParam,
        query: ListQuery,
        response: { 200: FileList, ...deviceErrors },
        detail: {
          summary:
            "A directory of the device: name, type, size, modification time, mode, owner and group of each entry (symlinks shown as links, with their target)",
          tags: ["files"],
        },
      },
    )
    .get(
      "/stat",
      async ({ params, query, principal }) => {
        await reach(principal, params.id);
        const e = await elevation(principal, params.id, query.elevated === "true");
        return explorer.ask(
          params.id,
          { op: "stat", path: required(query.path), elevated: Boolean(e), ...(query.acl === "true" ? { acl: true } : {}) },
          FileStat,
        );
      },
      {
        permission: "device:files",
        params: DeviceParam,
        query: StatQuery,
        response: { 200: FileStat, ...deviceErrors },
        detail: {
          summary: "Properties of one entry: times, owner, mode, the resolved path, and with `acl=true` its access control list",
          tags: ["files"],
        },
      },
    )
    .get(
      "/count",
      async ({ params, query, principal }) => {
        await reach(principal, params.id);
        const e = await elevation(principal, params.id, query.elevated === "true");
        return explorer.ask(params.id, { op: "count", path: required(query.path), elevated: Boolean(e) }, FileCount);
      },
      {
        permission: "device:files",
        params: DeviceParam,
        query: PathQuery,
        response: { 200: FileCount, ...deviceErrors },
        detail: {
          summary: "Files, directories, links and bytes at and below a path (what a recursive delete would remove)",
          tags: ["files"],
        },
      },
    )
    .post(
      "/ops",
      async ({ params, body, principal, server, request }) => {
        await reach(principal, params.id);
        const e = await elevation(principal, params.id, body.elevated);
        const elevated = Boolean(e);
        const base = {
          organizationId: principal.organizationId,
          deviceId: params.id,
          actor: principalActor(principal),
          ip: ipOf(server, request),
          action: `file.${body.op}`,
        };
        const details = { ...body, ...(e ? { elevationId: e.id } : {}) };
        const entries = (r: { entries: number }) => ({ entries: r.entries });
        switch (body.op) {
          case "mkdir":
            return explorer.act({ ...base, details }, { op: "mkdir", path: body.path, elevated }, FileOpResult, entries);
          case "rename":
          case "move":
            return explorer.act(
              { ...base, details },
              { op: "move", path: body.path, to: body.to, overwrite: body.overwrite ?? false, elevated },
              FileOpResult,
              entries,
            );
          case "copy":
            return explorer.act(
              { ...base, details },
              { op: "copy", path: body.path, to: body.to, overwrite: body.overwrite ?? false, elevated },
              FileOpResult,
              entries,
            );
          case "delete":
            return explorer.act(
              { ...base, details },
              { op: "delete", path: body.path, recursive: body.recursive ?? false, elevated },
              FileOpResult,
              entries,
            );
          case "chmod":
            return explorer.act({ ...base, details }, { op: "chmod", path: body.path, mode: body.mode, elevated }, FileOpResult, entries);
          case "chown":
            return explorer.act(
              { ...base, details },
              { op: "chown", path: body.path, owner: body.owner, group: body.group, elevated },
              FileOpResult,
              entries,
            );
          case "acl":
            return explorer.act({ ...base, details }, { op: "acl", path: body.path, change: body.change, elevated }, FileOpResult, entries);
        }
      },
      {
        permission: "device:files",
        params: DeviceParam,
        body: OpBody,
        response: { 200: FileOpResult, ...deviceErrors },
        detail: {
          summary:
            "Change the device's files: mkdir, rename, move, copy, delete (recursive answers the count removed), chmod, chown, acl (Windows: icacls grant/deny/remove)",
          description:
            "`elevated: true` acts as root/SYSTEM (needs a running elevation). Every change is audited with the path and outcome.",
          tags: ["files"],
        },
      },
    )
    .post(
      "/elevation",
      async ({ params, body, principal, server, request, set }) => {
        await reach(principal, params.id);
        if (principal.kind !== "user") throw new Forbidden("FORBIDDEN", "only a signed-in user can elevate");
        const e = await insertElevation(s.sql, {
          id: Bun.randomUUIDv7(),
          organizationId: principal.organizationId,
          deviceId: params.id,
          actor: principalActor(principal),
          reason: body.reason,
          expiresAt: new Date(Date.now() + ELEVATION_MS),
        });
        await writeAudit(s.sql, {
          ...auditActor(principal.organizationId, principalActor(principal)),
          action: "file.elevate",
          targetType: "device",
          targetId: params.id,
          ip: ipOf(server, request),
          details: { elevationId: e.id, reason: body.reason, expiresAt: e.expiresAt.toISOString() },
        });
        set.status = 201;
        return { id: e.id, reason: e.reason, createdAt: e.createdAt, expiresAt: e.expiresAt };
      },
      {
        permission: "device:files:elevate",
        params: DeviceParam,
        body: ElevationBody,
        response: { 201: Elevation, ...errors(403, 404, 422) },
        detail: {
          summary: "Elevate your file session on this device to root/SYSTEM for 15 minutes, with a reason (audited)",
          tags: ["files"],
        },
      },
    )
    .get(
      "/elevation",
      async ({ params, principal }) => {
        await reach(principal, params.id);
        const e = await activeElevation(s.sql, principal.id, params.id);
        return { elevation: e ? { id: e.id, reason: e.reason, createdAt: e.createdAt, expiresAt: e.expiresAt } : null };
      },
      {
        permission: "device:files",
        params: DeviceParam,
        response: { 200: type({ elevation: Elevation.or("null") }), ...errors(404, 422) },
        detail: { summary: "Your running elevation on this device, if any", tags: ["files"] },
      },
    )
    .delete(
      "/elevation",
      async ({ params, principal, server, request }) => {
        await reach(principal, params.id);
        if (await endElevation(s.sql, principal.id, params.id))
          await writeAudit(s.sql, {
            ...auditActor(principal.organizationId, principalActor(principal)),
            action: "file.elevate.end",
            targetType: "device",
            targetId: params.id,
            ip: ipOf(server, request),
          });
        return { ok: true as const };
      },
      {
        permission: "device:files",
        params: DeviceParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "End your elevation on this device", tags: ["files"] },
      },
    )
    .get(
      "/download",
      async ({ params, query, principal, request, server }) => {
        await reach(principal, params.id);
        const e = await elevation(principal, params.id, query.elevated === "true");
        const t = await startDownload(principal, params.id, required(query.path), e, query.rate ?? null, ipOf(server, request));
        return stagedResponse(transfers, t, request.headers.get("range"));
      },
      {
        permission: "device:files",
        params: DeviceParam,
        query: DownloadQuery,
        detail: {
          summary: "Download a file of the device (HTTP Range; streamed as it arrives, resumable on both legs)",
          responses: fileResponses("The file's bytes (206 with Content-Range for a Range)", "application/octet-stream", 403, 404, 409, 422),
          description:
            "The server pulls the file from the device in acknowledged chunks into its staging area and streams it on at once; the `X-Transfer-Id` header names the transfer (see /api/v1/files/transfers). A second request for the same unchanged file (a browser resuming with `Range`) reads the same transfer. `Repr-Digest` carries the SHA-256 once the whole file was checked.",
          tags: ["files"],
        },
      },
    )
    .post(
      "/send",
      async ({ params, body, principal, server, request, set }) => {
        await reach(principal, params.id);
        if (body.toDeviceId === params.id) throw new Conflict("SAME_DEVICE", "copy within one device with the copy operation");
        await reach(principal, body.toDeviceId);
        const from = await elevation(principal, params.id, body.elevated);
        const to = await elevation(principal, body.toDeviceId, body.elevated);
        const ip = ipOf(server, request);
        const d = await startDownload(principal, params.id, body.path, from, body.rate ?? null, ip);
        // the upload waits (state staging) for the download's staged file, then reads it (FileTransfers.forward)
        const u = await insertTransfer(s.sql, {
          id: Bun.randomUUIDv7(),
          organizationId: principal.organizationId,
          deviceId: body.toDeviceId,
          direction: "upload",
          path: body.toPath,
          size: d.size,
          sourceMtime: null,
          state: "staging",
          elevated: Boolean(to),
          overwrite: body.overwrite ?? false,
          rateLimitBps: body.rate ?? null,
          stagingName: d.stagingName,
          sha256: null,
          actor: principalActor(principal),
        });
        await writeAudit(s.sql, {
          ...auditActor(principal.organizationId, principalActor(principal)),
          action: "file.send",
          targetType: "device",
          targetId: params.id,
          ip,
          details: { path: body.path, toDeviceId: body.toDeviceId, toPath: body.toPath, downloadId: d.id, uploadId: u.id, size: d.size },
        });
        if ((transfers.live(d.id)?.state ?? d.state) === "done") await transfers.forward({ ...d, ...(await transfers.fresh(d.id)) });
        set.status = 202;
        return { download: view(d, transfers.live(d.id)), upload: view(u, transfers.live(u.id)) };
      },
      {
        permission: "device:files",
        params: DeviceParam,
        body: SendBody,
        response: { 202: type({ download: Transfer, upload: Transfer }), ...deviceErrors },
        detail: {
          summary: "Copy a file of this device to another device, through the server's staging area (no browser in the middle)",
          description:
            "A download from this device and an upload to the other, the upload starting when the download's SHA-256 was checked and checked again on the other device. `elevated` needs a running elevation on both devices.",
          tags: ["files"],
        },
      },
    )
    .get(
      "/transfers",
      async ({ params, principal }) => {
        await reach(principal, params.id);
        const rows = await listTransfers(s.sql, principal.organizationId, { deviceId: params.id }, 100);
        return { items: rows.map((t) => view(t, transfers.live(t.id))) };
      },
      {
        permission: "device:files",
        params: DeviceParam,
        response: { 200: type({ items: Transfer.array() }), ...errors(404, 422) },
        detail: { summary: "The device's file transfers, newest first (the last 100)", tags: ["files"] },
      },
    );

  const transferRoutes = new Elysia({ prefix: "/api/v1/files/transfers" }).use(authPlugin(s.sql)).get(
    "",
    async ({ principal }) => {
      const rows = await listTransfers(s.sql, principal.organizationId, { actorId: principal.id }, 100);
      const mine: ReturnType<typeof view>[] = [];
      for (const t of rows) if (await deviceInReach(s.sql, principal, t.deviceId)) mine.push(view(t, transfers.live(t.id)));
      return { items: mine };
    },
    {
      permission: "device:files",
      response: { 200: type({ items: Transfer.array() }) },
      detail: { summary: "Your file transfers on every device, newest first (the last 100)", tags: ["files"] },
    },
  );

  const transferOf = async (principal: Principal, id: string) => {
    const t = await getTransfer(s.sql, principal.organizationId, id);
    if (!t || !(await deviceInReach(s.sql, principal, t.deviceId))) throw new NotFound("TRANSFER_NOT_FOUND", "no such transfer");
    return t;
  };
  const actOn = async (principal: Principal, t: TransferRow, action: "pause" | "resume" | "cancel", ip: string | null) => {
    const actor: Actor = principalActor(principal);
    if (t.state === "done" || t.state === "failed" || t.state === "cancelled")
      throw new Conflict("TRANSFER_FINISHED", `the transfer is ${t.state}`);
    if (action === "pause") await transfers.pause(t.id);
    if (action === "cancel") await transfers.cancel(t);
    if (action === "resume") {
      if (t.state === "staging") throw new Conflict("TRANSFER_STAGING", "the upload is still arriving from the browser");
      transfers.run({ ...t, state: "queued" });
    }
    await writeAudit(s.sql, {
      ...auditActor(t.organizationId, actor),
      action: `file.transfer.${action}`,
      targetType: "device",
      targetId: t.deviceId,
      ip,
      details: { transferId: t.id, path: t.path, direction: t.direction },
    });
  };

  const act = async (principal: Principal, id: string, action: "pause" | "resume" | "cancel", ip: string | null) => {
    const t = await transferOf(principal, id);
    await actOn(principal, t, action, ip);
    const row = await transfers.fresh(t.id);
    return view(row ?? t, transfers.live(t.id));
  };

  const oneTransfer = new Elysia({ prefix: "/api/v1/files/transfers/:id" })
    .use(authPlugin(s.sql))
    .get(
      "",
      async ({ params, principal }) => {
        const t = await transferOf(principal, params.id);
        return view(t, transfers.live(t.id));
      },
      {
        permission: "device:files",
        params: TransferParams,
        response: { 200: Transfer, ...errors(404, 422) },
        detail: { summary: "One file transfer: progress, state, SHA-256", tags: ["files"] },
      },
    )
    .get(
      "/content",
      async ({ params, principal, request }) => {
        const t = await transferOf(principal, params.id);
        if (t.direction !== "download") throw new Conflict("NOT_A_DOWNLOAD", "only a download has content to fetch");
        if (t.state === "failed" || t.state === "cancelled") throw new Conflict("TRANSFER_FINISHED", `the transfer is ${t.state}`);
        return stagedResponse(transfers, t, request.headers.get("range"));
      },
      {
        permission: "device:files",
        params: TransferParams,
        detail: {
          summary: "A download's file as staged on the server (HTTP Range; streamed while it still arrives)",
          tags: ["files"],
          responses: fileResponses("The file's bytes (206 with Content-Range for a Range)", "application/octet-stream", 404, 409, 422),
        },
      },
    )
    .post("/pause", ({ params, principal, server, request }) => act(principal, params.id, "pause", ipOf(server, request)), {
      permission: "device:files",
      params: TransferParams,
      response: { 200: Transfer, ...errors(404, 409, 422) },
      detail: { summary: "Pause a file transfer (it keeps the bytes it moved)", tags: ["files"] },
    })
    .post("/resume", ({ params, principal, server, request }) => act(principal, params.id, "resume", ipOf(server, request)), {
      permission: "device:files",
      params: TransferParams,
      response: { 200: Transfer, ...errors(404, 409, 422) },
      detail: { summary: "Resume a paused file transfer from its last acknowledged byte", tags: ["files"] },
    })
    .post("/cancel", ({ params, principal, server, request }) => act(principal, params.id, "cancel", ipOf(server, request)), {
      permission: "device:files",
      params: TransferParams,
      response: { 200: Transfer, ...errors(404, 409, 422) },
      detail: { summary: "Cancel a file transfer (its staged and partial files are removed)", tags: ["files"] },
    });

  return new Elysia().use(perDevice).use(transferRoutes).use(oneTransfer).use(tusRoutes(s, transfers));
}
