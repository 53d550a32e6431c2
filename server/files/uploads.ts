import { FileStore } from "@tus/file-store";
import { Server, type Upload } from "@tus/server";
import { type } from "arktype";
import { Elysia } from "elysia";
import { principalActor } from "../audit/actor.ts";
import { auditActor, writeAudit } from "../audit/store.ts";
import { can } from "../auth/permissions.ts";
import { authPlugin } from "../auth/plugin.ts";
import type { Principal } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { deviceInReach } from "../devices/reach.ts";
import { errorBody, NotFound } from "../errors.ts";
import { MAX_BODY_BYTES } from "../http.ts";
import { ErrorBody, documentedResponses } from "../lib/schemas.ts";
import { FilePath } from "../protocol/files.ts";
import { activeElevation, insertTransfer } from "./store.ts";
import type { FileTransfers } from "./transfers.ts";
import { requestUrl } from "../lib/request-url.ts";

/** Largest single upload, bytes (the staging quota also applies). */
const MAX_UPLOAD_BYTES = 1024 ** 4;
const Metadata = type({
  /** The file's full path on the device. */
  path: FilePath,
  "overwrite?": "'true' | 'false'",
  "elevated?": "'true' | 'false'",
  /** The browser's SHA-256 of the file, when it computed one: checked against what the server received. */
  "sha256?": /^[0-9a-f]{64}$/,
  "filename?": "string",
  "filetype?": "string",
});
const UploadParams = type({ id: "string.uuid", uploadId: /^[0-9a-f-]{36}$/ });
const DeviceParam = type({ id: "string.uuid" });

interface Caller {
  principal: Principal;
  deviceId: string;
  ip: string | null;
}

/** tus answers errors as text; the API answers `{ error: { code, message } }` with the same status. */
const CODES: Record<number, string> = {
  400: "INVALID_UPLOAD_REQUEST",
  403: "FORBIDDEN",
  404: "UPLOAD_NOT_FOUND",
  409: "UPLOAD_OFFSET_MISMATCH",
  410: "UPLOAD_GONE",
  412: "TUS_VERSION_UNSUPPORTED",
  413: "UPLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "VALIDATION_FAILED",
  460: "CHECKSUM_MISMATCH",
  507: "STAGING_FULL",
};

async function withCode(res: Response): Promise<Response> {
  if (res.status < 400) return res;
  const text = (await res.text()).trim();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = errorBody(
      CODES[res.status] ?? (res.status >= 500 ? "UPLOAD_FAILED" : "INVALID_UPLOAD_REQUEST"),
      text.slice(0, 300) || "upload refused",
    );
  }
  const headers = new Headers(res.headers);
  headers.set("content-type", "application/json");
  headers.delete("content-length");
  return new Response(JSON.stringify(body), { status: res.status, headers });
}

/** The body is tus's to read (never parsed here): a parse hook that answers first, without reading it. */
const leaveBody = () => "tus" as const;

const refuse = (status: number, code: string, message: string) => ({ status_code: status, body: JSON.stringify(errorBody(code, message)) });

/**
 * Uploads from the browser: a tus endpoint per device (`@tus/server` with `@tus/file-store` under the
 * data directory's staging area), resumable after a cut or a server restart. The upload names its
 * target path in its metadata (checked like every path: absolute, no `..`, no control character);
 * when it is whole, a transfer carries it to the device in acknowledged chunks (transfers.ts).
 * Only the user who started an upload, on the device it was started for, may continue it.
 */
export function tusRoutes(s: Pick<Services, "sql" | "agents">, transfers: FileTransfers) {
  const callers = new WeakMap<Request, Caller>();
  const caller = (req: Request): Caller => {
    const c = callers.get(req);
    if (!c) throw refuse(401, "UNAUTHENTICATED", "sign in first");
    return c;
  };
  const store = new FileStore({ directory: transfers.uploadsDir });
  const tus = new Server({
    path: "/api/v1/devices/uploads",
    datastore: store,
    maxSize: MAX_UPLOAD_BYTES,
    respectForwardedHeaders: false,
    namingFunction: () => crypto.randomUUID(),
    generateUrl: (req, { id }) => `/api/v1/devices/${caller(req).deviceId}/files/uploads/${id}`,
    getFileIdFromRequest: (req) => /\/files\/uploads\/([0-9a-f-]{36})$/.exec(requestUrl(req).pathname)?.[1],
    onUploadCreate: async (req, upload) => {
      const c = caller(req);
      const meta = Metadata(upload.metadata ?? {});
      if (meta instanceof type.errors) throw refuse(422, "VALIDATION_FAILED", `upload metadata: ${meta.summary.slice(0, 300)}`);
      if (upload.size === undefined) throw refuse(400, "INVALID_UPLOAD_REQUEST", "declare Upload-Length");
      if (meta.elevated === "true") {
        if (!can(c.principal, "device:files:elevate")) throw refuse(403, "FORBIDDEN", "your role does not allow elevated file access");
        if (!(await activeElevation(s.sql, c.principal.id, c.deviceId)))
          throw refuse(409, "ELEVATION_REQUIRED", "start an elevation first");
      }
      if (!(await transfers.fits(upload.size))) throw refuse(507, "STAGING_FULL", "the server's staging area is full");
      return { metadata: { ...upload.metadata, deviceId: c.deviceId, actorId: c.principal.id } };
    },
    onIncomingRequest: async (req, id) => {
      const c = caller(req);
      if (req.method === "POST") return; // a creation: checked in onUploadCreate
      const upload = await store.getUpload(id).catch(() => undefined);
      if (!upload || upload.metadata?.deviceId !== c.deviceId || upload.metadata?.actorId !== c.principal.id)
        throw refuse(404, "UPLOAD_NOT_FOUND", "no such upload");
    },
    onUploadFinish: async (req, upload: Upload) => {
      const c = caller(req);
      const meta = Metadata(upload.metadata ?? {});
      if (meta instanceof type.errors) throw refuse(422, "VALIDATION_FAILED", "upload metadata");
      const elevated = meta.elevated === "true";
      const t = await insertTransfer(s.sql, {
        id: Bun.randomUUIDv7(),
        organizationId: c.principal.organizationId,
        deviceId: c.deviceId,
        direction: "upload",
        path: meta.path,
        size: upload.size ?? upload.offset,
        sourceMtime: null,
        state: "queued",
        elevated,
        overwrite: meta.overwrite === "true",
        rateLimitBps: null,
        stagingName: upload.id,
        sha256: meta.sha256 ?? null,
        actor: principalActor(c.principal),
      });
      await writeAudit(s.sql, {
        ...auditActor(c.principal.organizationId, principalActor(c.principal)),
        action: "file.upload.start",
        targetType: "device",
        targetId: c.deviceId,
        ip: c.ip,
        details: { transferId: t.id, path: t.path, size: t.size, elevated, overwrite: t.overwrite },
      });
      transfers.run(t);
      return { headers: { "x-transfer-id": t.id } };
    },
  });

  const handle = async (principal: Principal, deviceId: string, request: Request, ip: string | null) => {
    if (!(await deviceInReach(s.sql, principal, deviceId))) throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
    callers.set(request, { principal, deviceId, ip });
    return withCode(await tus.handleWeb(request));
  };
  /** The tus answers: headers only (Location, Upload-Offset), with the shared error body for refusals. */
  const answers = (status: 200 | 201 | 204, description: string, header: string) => {
    const { 200: _, ...refusals } = documentedResponses(description, ErrorBody, 400, 401, 403, 404, 409, 410, 413, 415, 422);
    return { [status]: { description, headers: { [header]: { schema: { type: "string" } } } }, ...refusals };
  };
  const detail = (summary: string, responses: ReturnType<typeof answers>) => ({
    summary,
    responses,
    description: `The tus 1.0 protocol (creation, termination): chunks of at most ${MAX_BODY_BYTES} bytes. Metadata: \`path\` (the target's full path on the device), \`overwrite\`, \`elevated\`, \`sha256\` (optional, checked).`,
    tags: ["files"],
  });

  return new Elysia({ prefix: "/api/v1/devices/:id/files/uploads" })
    .use(authPlugin(s.sql))
    .post(
      "",
      ({ params, principal, request, server }) => handle(principal, params.id, request, server?.requestIP(request)?.address ?? null),
      {
        permission: "device:files",
        params: DeviceParam,
        parse: leaveBody,
        detail: detail("Start an upload to the device (tus creation)", answers(201, "Created: Location names the upload", "Location")),
      },
    )
    .head(
      "/:uploadId",
      ({ params, principal, request, server }) => handle(principal, params.id, request, server?.requestIP(request)?.address ?? null),
      {
        permission: "device:files",
        params: UploadParams,
        detail: detail("Where an upload stands (tus: Upload-Offset)", answers(200, "The bytes received so far", "Upload-Offset")),
      },
    )
    .patch(
      "/:uploadId",
      ({ params, principal, request, server }) => handle(principal, params.id, request, server?.requestIP(request)?.address ?? null),
      {
        permission: "device:files",
        params: UploadParams,
        parse: leaveBody,
        detail: detail("Send the next bytes of an upload (tus)", answers(204, "Stored: Upload-Offset says up to where", "Upload-Offset")),
      },
    )
    .delete(
      "/:uploadId",
      ({ params, principal, request, server }) => handle(principal, params.id, request, server?.requestIP(request)?.address ?? null),
      {
        permission: "device:files",
        params: UploadParams,
        parse: leaveBody,
        detail: detail("Abandon an upload (tus termination)", answers(204, "Abandoned", "Tus-Resumable")),
      },
    );
}
