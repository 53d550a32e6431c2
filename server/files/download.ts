import { join } from "node:path";
import { AppError } from "../errors.ts";
import type { TransferRow } from "./store.ts";
import type { FileTransfers } from "./transfers.ts";

/** Bytes read from the staged file per piece of the response. */
const PIECE = 262_144;
/** A response waiting for bytes that do not come (the device away, the transfer paused) ends after this long. */
const MAX_STALL_MS = 10 * 60_000;

/** The byte range a `Range` header asks for within `size` bytes: null for the whole file; 416 when unsatisfiable. */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // several ranges, or another unit: the whole file (a server may ignore Range)
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) throw rangeError(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) throw rangeError(size);
  return { start, end };
}

function rangeError(size: number): AppError {
  return new AppError(416, "RANGE_NOT_SATISFIABLE", `the file has ${size} bytes`, { size });
}

/** A filename for Content-Disposition: the path's last segment, RFC 5987-encoded, with a plain ASCII fallback. */
function disposition(path: string): string {
  const name = path.split(/[\\/]/).filter(Boolean).at(-1) ?? "download";
  const ascii = name.replace(/[^A-Za-z0-9._ -]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * The transfer's staged file as an HTTP response (200, or 206 for a Range), streamed while it still
 * arrives from the device: bytes are sent as soon as they are staged, so the browser's download runs
 * alongside the device's, except the file's last byte, sent once the SHA-256 of both ends agreed (a
 * failed check ends the response with an error instead); a cut on either side resumes (the browser
 * with Range, the device from the staged length). Never more than one piece in memory.
 */
export function stagedResponse(transfers: FileTransfers, t: TransferRow, range: string | null): Response {
  const r = parseRange(range, t.size);
  const start = r?.start ?? 0;
  const end = r?.end ?? t.size - 1;
  const file = join(transfers.downloadsDir, t.stagingName);
  let pos = start;
  const available = async (): Promise<{ bytes: number; state: TransferRow["state"] }> => {
    const live = transfers.live(t.id);
    if (live) return { bytes: live.doneBytes, state: live.state };
    const row = await transfers.fresh(t.id);
    return { bytes: row?.doneBytes ?? 0, state: row?.state ?? "failed" };
  };
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const since = Date.now();
      for (;;) {
        if (pos > end) {
          controller.close();
          return;
        }
        const a = await available();
        // the file's last byte is held back until both ends' SHA-256 agree: a client that has it all has a checked file
        const upTo = a.state !== "done" && end === t.size - 1 ? Math.min(a.bytes, end) : Math.min(a.bytes, end + 1);
        if (upTo > pos) {
          // a slice of the file per piece: no handle is held between pulls (a client that vanishes leaks nothing)
          const n = Math.min(PIECE, upTo - pos);
          const buf = new Uint8Array(
            await Bun.file(file)
              .slice(pos, pos + n)
              .arrayBuffer(),
          );
          if (buf.length === 0) throw new Error("the staged file is shorter than its progress");
          pos += buf.length;
          controller.enqueue(buf);
          return;
        }
        if (a.state === "failed" || a.state === "cancelled" || Date.now() - since > MAX_STALL_MS) {
          controller.error(new Error(`the transfer is ${a.state}`));
          return;
        }
        // wait for the next chunk (or a second, to look at the state again)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, 1000);
          const off = transfers.onProgress(t.id, done);
          function done() {
            clearTimeout(timer);
            off();
            resolve();
          }
        });
      }
    },
  });
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    // the whole file's size (a response still arriving from the device is chunked, without Content-Length)
    "x-file-size": String(t.size),
    "accept-ranges": "bytes",
    "content-disposition": disposition(t.path),
    "cache-control": "no-store",
    "x-transfer-id": t.id,
    etag: `"${t.id}"`,
  };
  if (t.sha256) headers["repr-digest"] = `sha-256=:${Buffer.from(t.sha256, "hex").toString("base64")}:`;
  if (r) headers["content-range"] = `bytes ${start}-${end}/${t.size}`;
  // a staged file already whole is served as a file (with its length)
  const whole = (transfers.live(t.id)?.state ?? t.state) === "done";
  const body = t.size === 0 ? null : whole ? Bun.file(file).slice(start, end + 1) : stream;
  if (whole) headers["content-length"] = String(t.size === 0 ? 0 : end - start + 1);
  return new Response(body, { status: r ? 206 : 200, headers });
}
