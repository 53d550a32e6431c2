import * as v from "valibot";
import type { BeaconBody, BeaconResponse, TelemetryBatch } from "../../server/protocol/frames.ts";
import { SIGNATURE_HEADERS, signBody, signingKey } from "../../server/protocol/signing.ts";
import { BeaconResponseSchema } from "../wire.ts";

export class BeaconError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`beacon refused: ${status} ${code}`);
  }
}

/** Posts one signed beacon (HMAC over timestamp + exact body bytes) and validates the answer. */
export async function sendBeacon(
  server: string,
  deviceId: string,
  secret: string,
  agentVersion: string,
  batches: TelemetryBatch[],
  timeoutMs = 15_000,
): Promise<BeaconResponse> {
  const body: BeaconBody = { v: 1, agentVersion, batches };
  const text = JSON.stringify(body);
  const ts = Date.now();
  const res = await fetch(`${server}/api/agent/v1/beacon`, {
    method: "POST",
    headers: {
      "content-type": "text/plain",
      [SIGNATURE_HEADERS.device]: deviceId,
      [SIGNATURE_HEADERS.timestamp]: String(ts),
      [SIGNATURE_HEADERS.signature]: signBody(signingKey(secret), ts, text),
    },
    body: text,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
  if (!res.ok) throw new BeaconError(res.status, json.error?.code ?? "UNKNOWN");
  const parsed = v.safeParse(BeaconResponseSchema, json);
  if (!parsed.success) throw new BeaconError(res.status, "BAD_RESPONSE");
  return parsed.output;
}
