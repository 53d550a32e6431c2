import { BINARY_PREFIX_BYTES, decodeBinaryFrame, encodeBinaryFrame } from "../../server/protocol/binary.ts";
import { MAX_FRAME_BYTES } from "../../server/protocol/constants.ts";
import { MAX_CHUNK_BYTES } from "../../server/protocol/files-limits.ts";

/**
 * The pipe between the agent and its file worker (stdin: requests, stdout: answers): each message is
 * a 4-byte big-endian length, then a binary message of that many bytes as on the agent's socket
 * (server/protocol/binary.ts: its JSON, then a chunk's bytes raw, or none), so a chunk crosses the
 * pipe without base64 or a JSON string around it.
 */

/**
 * Bytes of one message's JSON, at most: a whole answer (a listing of 5,000 entries is cut to fit one
 * socket frame, but its JSON on the pipe may be larger than the frame: names escaped once more).
 */
const MAX_PIPE_JSON_BYTES = 4 * MAX_FRAME_BYTES;
/** Bytes of one message after its length, at most. */
const MAX_MESSAGE_BYTES = BINARY_PREFIX_BYTES + MAX_PIPE_JSON_BYTES + MAX_CHUNK_BYTES;

const EMPTY = new Uint8Array(0);

/** One message for the pipe: `message` as JSON and `payload` (if any) raw, behind their length. */
export function pipeMessage(message: unknown, payload: Uint8Array = EMPTY): Buffer {
  const body = encodeBinaryFrame(message, payload, MAX_PIPE_JSON_BYTES);
  const out = Buffer.allocUnsafe(BINARY_PREFIX_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, BINARY_PREFIX_BYTES);
  return out;
}

/** Splits the pipe's bytes into messages; `push` throws when one is malformed or over its bounds (the pipe is then dropped). */
export class PipeReader {
  private parts: Uint8Array[] = [];
  private size = 0;
  /** Bytes the message being read takes (prefix included), once its prefix is in. */
  private need = 0;

  /** Takes the next bytes of the pipe; returns the messages they complete (JSON and payload, empty when none). */
  push(bytes: Uint8Array): { message: Record<string, unknown>; payload: Uint8Array }[] {
    this.parts.push(bytes);
    this.size += bytes.length;
    const out: { message: Record<string, unknown>; payload: Uint8Array }[] = [];
    for (;;) {
      if (this.need === 0) {
        if (this.size < BINARY_PREFIX_BYTES) return out;
        const head = this.joined();
        const length = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0);
        if (length > MAX_MESSAGE_BYTES) throw new Error(`pipe message of ${length} bytes (at most ${MAX_MESSAGE_BYTES})`);
        this.need = BINARY_PREFIX_BYTES + length;
      }
      // the pieces are joined once the whole message is in (not at every read of the pipe)
      if (this.size < this.need) return out;
      const all = this.joined();
      const decoded = decodeBinaryFrame(all.subarray(BINARY_PREFIX_BYTES, this.need), MAX_CHUNK_BYTES, MAX_PIPE_JSON_BYTES);
      if ("problem" in decoded) throw new Error(`bad pipe message: ${decoded.problem}`);
      out.push({ message: decoded.frame, payload: decoded.payload });
      const rest = all.subarray(this.need);
      this.parts = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
      this.need = 0;
    }
  }

  private joined(): Uint8Array {
    if (this.parts.length > 1) this.parts = [Buffer.concat(this.parts, this.size)];
    return this.parts[0] ?? EMPTY;
  }
}
