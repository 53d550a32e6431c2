import type { Sql } from "postgres";
import { type DeviceKeys, completeRotation, deviceKeysMany, setPendingKey } from "../devices/secrets.store.ts";
import { sameHex } from "../lib/crypto.ts";
import { SIGNATURE_WINDOW_MS, signBody, signingKey } from "../protocol/signing.ts";

export interface DeviceIdentity {
  id: string;
  organizationId: string;
  hostname: string;
  rotationDue: boolean;
}

export type VerifyFailure = "unknown_device" | "bad_signature" | "stale_timestamp";

/** A device's signing keys by id; undefined for an unknown device. */
export type KeyLookup = (deviceId: string) => Promise<DeviceKeys | undefined>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lookups gathered into one statement, at most. */
const MAX_KEY_BATCH = 1_000;

/**
 * Key lookups in few statements: a reconnect storm brings hundreds of signed handshakes a second, and
 * one query each would cost as many round trips and pool turns as the telemetry they open. The lookups
 * of one event-loop turn share a statement; while one runs, the next turns' lookups gather and go
 * together when it ends (at most MAX_KEY_BATCH at once). A lone handshake waits for nothing but the
 * end of its turn.
 */
export function batchedKeyLookup(sql: Sql, rotationS: number): KeyLookup {
  type Waiting = { resolve(k: DeviceKeys | undefined): void; reject(e: unknown): void }[];
  let open: Map<string, Waiting> | undefined;
  /** The open batch's turn has ended: it goes as soon as no statement runs. */
  let due = false;
  let running = 0;
  const run = async (batch: Map<string, Waiting>) => {
    try {
      const rows = await deviceKeysMany(sql, [...batch.keys()], rotationS);
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const [id, waiting] of batch) for (const w of waiting) w.resolve(byId.get(id));
    } catch (err) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(err);
    }
  };
  const close = (batch: Map<string, Waiting>) => {
    if (open !== batch) return;
    if (running > 0 && batch.size < MAX_KEY_BATCH) return; // gathers on; goes when the running one ends
    open = undefined;
    running++;
    void run(batch).finally(() => {
      running--;
      if (open && due) close(open);
    });
  };
  return (deviceId) =>
    new Promise((resolve, reject) => {
      // an id the database would refuse as a uuid is unknown here: in the shared statement it would fail
      // every other handshake of the turn
      if (!UUID.test(deviceId)) return resolve(undefined);
      if (!open) {
        const batch = new Map<string, Waiting>();
        open = batch;
        due = false;
        setImmediate(() => {
          if (open !== batch) return;
          due = true;
          close(batch);
        });
      }
      const batch = open;
      // uuids come back from the database in lower case
      const id = deviceId.toLowerCase();
      const waiting = batch.get(id) ?? [];
      waiting.push({ resolve, reject });
      batch.set(id, waiting);
      if (batch.size >= MAX_KEY_BATCH) close(batch);
    });
}

/**
 * Checks a device's signature over `timestampMs.message` against its current, pending (mid-rotation)
 * and recently previous keys. A signature made with the pending key completes the rotation.
 */
export async function verifyDevice(
  sql: Sql,
  keys: KeyLookup,
  deviceId: string,
  timestampMs: number,
  message: string,
  signature: string,
): Promise<DeviceIdentity | VerifyFailure> {
  if (!Number.isFinite(timestampMs) || Math.abs(Date.now() - timestampMs) > SIGNATURE_WINDOW_MS) return "stale_timestamp";
  const row = await keys(deviceId);
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
