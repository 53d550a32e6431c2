import type { Sql } from "postgres";
import type { AgentHub } from "./hub.ts";
import { log } from "../log.ts";
import { completeRotation, rotationDue } from "../devices/secrets.store.ts";
import { beginRotation } from "./credentials.ts";

/** Deadline for the agent to persist a new secret and answer, in ms. */
const ROTATION_DEADLINE_MS = 30_000;

/**
 * Rotates a connected device's secret: the new key is stored as pending, the agent persists the
 * secret atomically and answers, and only then does the key become current. If the answer is
 * lost, the agent's next signature with the new secret completes the rotation instead.
 */
export async function rotateSecret(s: { sql: Sql; agents: AgentHub }, deviceId: string): Promise<boolean> {
  const offer = await beginRotation(s.sql, deviceId);
  if (!offer) return false; // another offer is in flight (a beacon's answer, another node)
  const result = await s.agents.call(deviceId, { type: "rotate_secret", data: { secret: offer.secret } }, ROTATION_DEADLINE_MS);
  if (!result.ok) {
    log("warn", "device secret rotation failed", {
      deviceId,
      code: result.code,
    });
    return false;
  }
  await completeRotation(s.sql, deviceId, offer.key);
  log("info", "device secret rotated", { deviceId });
  return true;
}

/** Rotates the secrets of this node's connected devices whose secret is older than the rotation period. */
export async function rotateDueSecrets(s: { sql: Sql; agents: AgentHub; nodeId: string; rotationS: number }, max = 500): Promise<number> {
  let rotated = 0;
  for (const id of await rotationDue(s.sql, s.nodeId, s.rotationS, max)) if (await rotateSecret(s, id)) rotated++;
  return rotated;
}
