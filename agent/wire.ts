/**
 * What the agent accepts from the server, checked with valibot. The server's arktype schemas in
 * server/protocol/ are the source of truth; the agent does not load arktype because it costs
 * ~40 MB of RSS in a compiled binary (docs/benchmarks.md), against a 20 MB budget. The valibot
 * schemas are generated from them (scripts/agent-wire.ts → wire.generated.ts): `tsc` checks their
 * output types against the inferred ones, and wire.test.ts fails when the generated file is stale.
 */
import * as v from "valibot";
import type { ServerFrame } from "../server/protocol/frames.ts";
import { ServerFrameSchema } from "./wire.generated.ts";

export { BeaconResponseSchema } from "./wire.generated.ts";

/** A server frame, or undefined (with the reason) when it does not match the protocol. */
export function parseServerFrame(raw: unknown): { frame: ServerFrame } | { problem: string } {
  const r = v.safeParse(ServerFrameSchema, raw);
  return r.success ? { frame: r.output } : { problem: v.summarize(r.issues) };
}
