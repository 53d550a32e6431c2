import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import type { Services } from "../context.ts";
import { acceptBeacon } from "../devices/contact.store.ts";
import { insertDevice } from "../devices/store.ts";
import { redeemToken } from "../enrollment/store.ts";
import { AppError, BadRequest, Conflict, TooManyRequests, Unauthorized, ValidationFailed } from "../errors.ts";
import { sha256 } from "../lib/crypto.ts";
import { RateLimiter } from "../lib/rate-limit.ts";
import { log } from "../log.ts";
import { BeaconBody, BeaconResponse, EnrollRequest, EnrollResponse } from "../protocol/frames.ts";
import { SIGNATURE_HEADERS, signingKey } from "../protocol/signing.ts";
import { documentedResponses, errors } from "../lib/schemas.ts";
import { IngestBusy } from "../telemetry/ingest.ts";
import { batchedKeyLookup, beginRotation, verifyDevice } from "./credentials.ts";
import { agentSocket } from "./socket.ts";

const REDEEM_ERRORS = {
  unknown: [401, "ENROLLMENT_TOKEN_INVALID", "this enrollment token is not known"],
  expired: [410, "ENROLLMENT_TOKEN_EXPIRED", "this enrollment token has expired"],
  used_up: [410, "ENROLLMENT_TOKEN_USED_UP", "this enrollment token has no uses left"],
  revoked: [410, "ENROLLMENT_TOKEN_REVOKED", "this enrollment token was revoked"],
} as const;

const VERIFY_ERRORS = {
  unknown_device: "DEVICE_UNKNOWN",
  bad_signature: "BAD_SIGNATURE",
  stale_timestamp: "STALE_TIMESTAMP",
} as const;

/** The agent-facing endpoints: enrollment, the pulse socket and the signed beacon. */
export function agentRoutes(
  s: Pick<Services, "agents" | "arrivals" | "commands" | "config" | "ingest" | "live" | "sql" | "status" | "terminals">,
) {
  const enrollFailures = new RateLimiter(20, 10 * 60_000);
  // handshakes and beacons of one moment share one key lookup
  const keys = batchedKeyLookup(s.sql, s.config.secretRotationS);
  return new Elysia({ prefix: "/api/agent/v1" })
    .post(
      "/enroll",
      async ({ body, request, server }): Promise<EnrollResponse> => {
        const ip = server?.requestIP(request)?.address ?? null;
        // failed attempts are limited per address; successful ones are bounded by the token's uses
        if (enrollFailures.blocked(ip ?? "unknown")) throw new TooManyRequests("too many failed enrollment attempts");
        const redeemed = await redeemToken(s.sql, sha256(body.token));
        if (!redeemed.ok) {
          enrollFailures.hit(ip ?? "unknown");
          const [status, code, message] = REDEEM_ERRORS[redeemed.reason];
          throw new AppError(status, code, message);
        }
        const deviceId = Bun.randomUUIDv7();
        const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
        const tags = [...new Set([...redeemed.tags, ...body.tags])].slice(0, 64);
        await insertDevice(s.sql, {
          id: deviceId,
          organizationId: redeemed.organizationId,
          siteId: redeemed.siteId,
          enrollmentTokenId: redeemed.tokenId,
          agentVersion: body.agentVersion,
          facts: body.facts,
          tags,
          secretHash: signingKey(secret),
        });
        await writeAudit(s.sql, {
          organizationId: redeemed.organizationId,
          actorType: "agent",
          actorId: deviceId,
          action: "device.enrolled",
          targetType: "device",
          targetId: deviceId,
          details: {
            hostname: body.facts.hostname,
            os: body.facts.os,
            tokenId: redeemed.tokenId,
            tags,
          },
          ip,
        });
        s.live.publish(redeemed.organizationId, {
          type: "device.enrolled",
          deviceId,
          hostname: body.facts.hostname,
        });
        log("info", "device enrolled", {
          deviceId,
          hostname: body.facts.hostname,
        });
        return { deviceId, secret, settings: s.agents.settingsFor(deviceId) };
      },
      {
        body: EnrollRequest,
        response: { 200: EnrollResponse, ...errors(401, 410, 422, 429) },
        detail: {
          summary: "Exchange an enrollment token for a device id and secret",
          tags: ["agent"],
        },
      },
    )
    .post(
      "/beacon",
      async ({ body, request }): Promise<BeaconResponse> => {
        const deviceId = request.headers.get(SIGNATURE_HEADERS.device) ?? "";
        const ts = Number(request.headers.get(SIGNATURE_HEADERS.timestamp));
        const sig = request.headers.get(SIGNATURE_HEADERS.signature) ?? "";
        if (!/^[0-9a-f-]{36}$/i.test(deviceId) || !/^[0-9a-f]{64}$/.test(sig))
          throw new Unauthorized("BAD_SIGNATURE", "missing or malformed signature headers");
        const who = await verifyDevice(s.sql, keys, deviceId, ts, body, sig);
        if (typeof who === "string") throw new Unauthorized(VERIFY_ERRORS[who], `beacon rejected: ${who.replace("_", " ")}`);
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          throw new BadRequest("INVALID_BODY", "the beacon body is not JSON");
        }
        const beacon = BeaconBody(parsed);
        if (beacon instanceof type.errors) throw new ValidationFailed(`invalid beacon: ${beacon.summary}`);
        const accepted = await acceptBeacon(s.sql, deviceId, ts);
        if (!accepted) throw new Conflict("REPLAYED", "this beacon was already received");
        let acked = accepted.ackedSeq;
        for (const batch of beacon.batches) {
          try {
            await s.ingest.submit(deviceId, who.organizationId, batch);
            acked = Math.max(acked, batch.seq);
          } catch (err) {
            if (err instanceof IngestBusy) break;
            throw err;
          }
        }
        // the status reflects this contact by the time the agent has its answer (gathered with other touches)
        await s.status.touch(deviceId);
        const response: BeaconResponse = {
          settings: s.agents.settingsFor(deviceId),
          ackedSeq: acked,
        };
        const pending = await s.commands.forBeacon(deviceId);
        if (pending.length > 0) response.commands = pending;
        const offer = who.rotationDue ? await beginRotation(s.sql, deviceId) : undefined;
        if (offer) response.rotateSecret = { secret: offer.secret };
        return response;
      },
      {
        parse: "text",
        body: type("string"),
        detail: {
          summary: "Signed telemetry beacon used while the socket is down",
          description:
            "The body is the JSON text of `{ batches }`, signed: the signature header is the hex HMAC-SHA256, keyed with " +
            'SHA-256 of the device secret, of `timestamp + "." + body`.',
          tags: ["agent"],
          parameters: [
            {
              name: SIGNATURE_HEADERS.device,
              in: "header",
              required: true,
              schema: { type: "string", format: "uuid" },
              description: "The device id",
            },
            {
              name: SIGNATURE_HEADERS.timestamp,
              in: "header",
              required: true,
              schema: { type: "integer" },
              description: "Milliseconds since the epoch",
            },
            {
              name: SIGNATURE_HEADERS.signature,
              in: "header",
              required: true,
              schema: { type: "string", pattern: "^[0-9a-f]{64}$" },
              description: "Hex HMAC-SHA256 of the timestamp and the body",
            },
          ],
          responses: documentedResponses("Settings, the highest batch stored, and pending commands", BeaconResponse, 400, 401, 409, 422),
        },
      },
    )
    .use(agentSocket(s, keys))
    .onAfterHandle(({ set }) => {
      set.headers["cache-control"] = "no-store";
    });
}
