/**
 * The browser's terminal socket (`/api/v1/devices/:id/terminal`). API.md fixes these JSON frames as a
 * stable contract, so they keep their documented shape: the payload stays where API.md puts it
 * (`data` of input and output, `cols`/`rows` of resize, `code` of exit, `message` of error). The
 * envelope's `v` and `id` are optional on what the browser sends and always on what the server sends.
 */
import { type } from "arktype";
import { newEnvelope } from "./envelope.ts";
import { MAX_TERMINAL_CHUNK } from "./frames.ts";

const optionalEnvelope = { "v?": "1", "id?": "0 < string <= 64" } as const;

/** What the browser sends: keystrokes, a new size, or the end of the session. */
export const TerminalClientFrame = type({ ...optionalEnvelope, type: "'input'", data: `string <= ${MAX_TERMINAL_CHUNK}` })
  .or({ ...optionalEnvelope, type: "'resize'", cols: "1 <= number.integer <= 1000", rows: "1 <= number.integer <= 500" })
  .or({ ...optionalEnvelope, type: "'close'" });
export type TerminalClientFrame = typeof TerminalClientFrame.infer;

const serverEnvelope = { v: "1", id: "string" } as const;

/** What the browser receives: shell output, the exit code (null when the shell was cut off), an error. */
export const TerminalServerFrame = type({ ...serverEnvelope, type: "'output'", data: "string" })
  .or({ ...serverEnvelope, type: "'exit'", code: "number.integer | null" })
  .or({ ...serverEnvelope, type: "'error'", message: "string" });
export type TerminalServerFrame = typeof TerminalServerFrame.infer;

/** A frame for the browser as the session writes it, before its envelope. */
export type TerminalEvent = TerminalServerFrame extends infer F ? (F extends unknown ? Omit<F, "v" | "id"> : never) : never;

/** A terminal frame for the browser, with its envelope. */
export function terminalFrame(f: TerminalEvent): TerminalServerFrame {
  return { ...newEnvelope(), ...f };
}
