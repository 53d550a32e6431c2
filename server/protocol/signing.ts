/** Accepted distance between a signed timestamp and the receiver's clock, in ms (replay window). */
export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

/** Request headers that carry a device's signature. */
export const SIGNATURE_HEADERS = {
  device: "x-sentpulse-device",
  timestamp: "x-sentpulse-timestamp",
  signature: "x-sentpulse-signature",
} as const;

/**
 * The HMAC key for a device: SHA-256 of its secret. The server stores only this digest, never
 * the secret the agent was given.
 */
export function signingKey(secret: string): Buffer {
  // Bun's native hasher: node:crypto would cost the agent ~7 MB of RSS (scripts/bench-probes.ts)
  return Buffer.from(new Bun.CryptoHasher("sha256").update(secret).digest());
}

/** Hex HMAC-SHA256 over `timestampMs + "." + body`. */
export function signBody(key: Uint8Array, timestampMs: number, body: string): string {
  return new Bun.CryptoHasher("sha256", key).update(`${timestampMs}.`).update(body).digest("hex");
}

/** What the agent signs to open its socket (sent in the query string: browsers' and Eden's sockets carry no headers). */
export function socketChallenge(deviceId: string, nonce: string): string {
  return `ws:${deviceId}:${nonce}`;
}
