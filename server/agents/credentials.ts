import type { Sql } from "postgres";
import { completeRotation, deviceKeys, setPendingKey } from "../devices/secrets.store.ts";
import { sameHex } from "../lib/crypto.ts";
import { SIGNATURE_WINDOW_MS, signBody, signingKey } from "../protocol/signing.ts";

export interface DeviceIdentity {
  id: string;
  organizationId: string;
  hostname: string;
  rotationDue: boolean;
}

export type VerifyFailure = "unknown_device" | "bad_signature" | "stale_timestamp";

/**
 * Checks a device's signature over `timestampMs.message` against its current, pending (mid-rotation)
 * and recently previous keys. A signature made with the pending key completes the rotation.
 */
export async function verifyDevice(
  sql: Sql,
  deviceId: string,
  timestampMs: number,
  message: string,
  signature: string,
  rotationS: number,
): Promise<DeviceIdentity | VerifyFailure> {
  if (!Number.isFinite(timestampMs) || Math.abs(Date.now() - timestampMs) > SIGNATURE_WINDOW_MS) return "stale_timestamp";
  const row = await deviceKeys(sql, deviceId, rotationS);
  if (!row) return "unknown_device";
  const matches = (key: Buffer | null) => key !== null && sameHex(signBody(key, timestampMs, message), signature);
  if (matches(row.current) || matches(row.previous)) {
    return {
      id: row.id,
      organizationId: row.organizationId,
      hostname: row.hostname,
      rotationDue: row.rotationDue,
    };
  }
  if (matches(row.pending)) {
    await completeRotation(sql, row.id);
    return {
      id: row.id,
      organizationId: row.organizationId,
      hostname: row.hostname,
      rotationDue: false,
    };
  }
  return "bad_signature";
}

/**
 * Starts a rotation: the new secret's signing key is stored as pending; returns the secret to hand to
 * the agent and its key, or undefined while another offer to this device is in flight.
 */
export async function beginRotation(sql: Sql, deviceId: string): Promise<{ secret: string; key: Buffer } | undefined> {
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  const key = signingKey(secret);
  return (await setPendingKey(sql, deviceId, key)) ? { secret, key } : undefined;
}
