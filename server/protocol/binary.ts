import { MAX_CHUNK_BYTES } from "./files-limits.ts";

/**
 * Binary messages on the agent's socket (and between server nodes): a file chunk's bytes travel raw
 * beside the frame that describes them, instead of base64 inside a JSON text frame. Layout:
 *
 *   4 bytes   big-endian length L of the JSON part (at most MAX_BINARY_JSON_BYTES)
 *   L bytes   UTF-8 JSON: the frame as a text frame carries it, without the bytes
 *   the rest  the payload (at most MAX_CHUNK_BYTES)
 *
 * Only two frames use it: the server's `files` call of op `write` (server → agent) and the agent's
 * `result` of a `read` (agent → server), and only between ends that said they take it (the agent's
 * `hello` and the server's `welcome` carry `binaryChunks: true`); everything else stays text. The
 * JSON part is checked by the same schema as a text frame. Free of arktype: the agent imports it.
 */

/** Bytes of the length prefix. */
export const BINARY_PREFIX_BYTES = 4;
/** Bytes of a binary message's JSON part, at most (a 4,096-character path and the envelope fit many times over). */
export const MAX_BINARY_JSON_BYTES = 65_536;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * A binary message: `frame` as JSON, then `payload` (copied once into the message). `maxJson`: the
 * JSON part's bound (the file worker's pipe carries whole listings: agent/files/pipe.ts).
 */
export function encodeBinaryFrame(frame: unknown, payload: Uint8Array, maxJson = MAX_BINARY_JSON_BYTES): Buffer<ArrayBuffer> {
  const json = encoder.encode(JSON.stringify(frame));
  if (json.length > maxJson) throw new RangeError(`JSON part of ${json.length} bytes (at most ${maxJson})`);
  if (payload.length > MAX_CHUNK_BYTES) throw new RangeError(`payload of ${payload.length} bytes (at most ${MAX_CHUNK_BYTES})`);
  const out = Buffer.allocUnsafe(BINARY_PREFIX_BYTES + json.length + payload.length);
  out.writeUInt32BE(json.length, 0);
  out.set(json, BINARY_PREFIX_BYTES);
  out.set(payload, BINARY_PREFIX_BYTES + json.length);
  return out;
}

/**
 * The frame (parsed JSON, still to be checked against its schema) and the payload (a view into
 * `message`, not a copy) of a binary message, or the problem with it: shorter than its prefix, a
 * JSON part longer than allowed or than the message, JSON that does not parse or is not an object,
 * a payload over `maxPayload` bytes.
 */
export function decodeBinaryFrame(
  message: Uint8Array,
  maxPayload: number = MAX_CHUNK_BYTES,
  maxJson: number = MAX_BINARY_JSON_BYTES,
): { frame: Record<string, unknown>; payload: Uint8Array } | { problem: string } {
  if (message.length < BINARY_PREFIX_BYTES)
    return { problem: `binary message of ${message.length} bytes is shorter than its length prefix` };
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const jsonBytes = view.getUint32(0);
  if (jsonBytes > maxJson) return { problem: `JSON part of ${jsonBytes} bytes (at most ${maxJson})` };
  const payloadAt = BINARY_PREFIX_BYTES + jsonBytes;
  if (payloadAt > message.length)
    return { problem: `JSON part of ${jsonBytes} bytes runs past the end of a ${message.length}-byte message` };
  const payloadBytes = message.length - payloadAt;
  if (payloadBytes > maxPayload) return { problem: `payload of ${payloadBytes} bytes (at most ${maxPayload})` };
  let frame: unknown;
  try {
    frame = JSON.parse(decoder.decode(message.subarray(BINARY_PREFIX_BYTES, payloadAt)));
  } catch {
    return { problem: "the JSON part is not valid UTF-8 JSON" };
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return { problem: "the JSON part is not an object" };
  return { frame: frame as Record<string, unknown>, payload: message.subarray(payloadAt) };
}
