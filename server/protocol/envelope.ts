import { PROTOCOL_VERSION } from "./constants.ts";

/**
 * The fields every frame carries besides `type` and `data`: the protocol version and a frame id
 * (a reply or a result repeats the id of the frame it answers).
 */
export const envelope = { v: "1", id: "0 < string <= 64" } as const;

/** The envelope of a new frame: this protocol version and a fresh id. */
export function newEnvelope(): { v: typeof PROTOCOL_VERSION; id: string } {
  return { v: PROTOCOL_VERSION, id: crypto.randomUUID() };
}
