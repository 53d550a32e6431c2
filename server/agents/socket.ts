import { type } from "arktype";
import { Elysia } from "elysia";
import type { Services } from "../context.ts";
import { AppError, Unauthorized } from "../errors.ts";
import { log } from "../log.ts";
import { decodeBinaryFrame, encodeBinaryFrame } from "../protocol/binary.ts";
import { SUPPORTED_PROTOCOL_VERSIONS } from "../protocol/constants.ts";
import { AgentFrame, MAX_FRAME_BYTES, serverFrame as frame } from "../protocol/frames.ts";
import { socketChallenge } from "../protocol/signing.ts";
import { IngestBusy } from "../telemetry/ingest.ts";
import { type KeyLookup, verifyDevice } from "./credentials.ts";
import type { AgentConnection } from "./hub.ts";

const Handshake = type({
  device: /^[0-9a-f-]{36}$/i,
  ts: "string.integer.parse",
  nonce: /^[A-Za-z0-9_-]{16,64}$/,
  sig: /^[0-9a-f]{64}$/,
  /** The agent's protocol version; absent from agents built before the handshake carried it, which speak 1. */
  "v?": "string <= 16",
});

/** Bad frames tolerated on one socket before it is closed. */
const MAX_BAD_FRAMES = 10;
/** Nonces remembered to refuse a replayed handshake inside the signature window. */
const MAX_NONCES = 200_000;
const seenNonces = new Set<string>();

function rememberNonce(nonce: string): boolean {
  if (seenNonces.has(nonce)) return false;
  if (seenNonces.size >= MAX_NONCES) {
    const oldest = seenNonces.values().next().value;
    if (oldest !== undefined) seenNonces.delete(oldest);
  }
  seenNonces.add(nonce);
  return true;
}

interface SocketState {
  conn: AgentConnection;
  badFrames: number;
}

/**
 * `/api/agent/v1/ws`: the handshake (device id, timestamp, nonce, HMAC) is checked before the
 * upgrade, so a bad one gets 400/401 and no socket. Then hello → welcome, telemetry → ack after
 * commit, results of server calls, and a secret rotation when one is due.
 */
export function agentSocket(
  s: Pick<Services, "agents" | "arrivals" | "commands" | "config" | "ingest" | "sql" | "terminals">,
  keys: KeyLookup,
) {
  const states = new Map<string, SocketState>();

  return new Elysia()
    .guard({ query: Handshake })
    .resolve(async ({ query, set }) => {
      // a node cut off from its cluster cannot route to its agents: they connect through another node
      const away = s.agents.unavailableFor();
      if (away > 0) {
        set.headers["retry-after"] = String(away);
        throw new AppError(503, "NODE_UNAVAILABLE", `this server node lost its cluster connection; retry in ${away} s`, {
          retryAfterSeconds: away,
        });
      }
      // near the open-file limit: refused before any work, and the connection closed at once
      const wait = s.agents.admission.admit();
      if (wait > 0) {
        set.headers["retry-after"] = String(wait);
        set.headers.connection = "close";
        throw new AppError(
          503,
          "SERVER_FULL",
          `this server holds as many agent sockets as its open-file limit allows; retry in ${wait} s`,
          {
            retryAfterSeconds: wait,
          },
        );
      }
      const version = query.v === undefined ? 1 : Number(query.v);
      if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version))
        throw new AppError(
          426,
          "PROTOCOL_UNSUPPORTED",
          `protocol version ${query.v} is not supported; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}`,
          {
            supported: SUPPORTED_PROTOCOL_VERSIONS,
          },
        );
      const held = s.agents.heldFor(query.device);
      if (held > 0) set.headers["retry-after"] = String(held);
      if (held > 0)
        throw new AppError(503, "RETRY_LATER", `reconnect in ${held} s`, {
          retryAfterSeconds: held,
        });
      const who = await verifyDevice(s.sql, keys, query.device, query.ts, socketChallenge(query.device, query.nonce), query.sig);
      if (typeof who === "string")
        throw new Unauthorized(who === "unknown_device" ? "DEVICE_UNKNOWN" : who.toUpperCase(), `socket refused: ${who.replace("_", " ")}`);
      if (!rememberNonce(query.nonce)) throw new Unauthorized("REPLAYED", "this handshake was already used");
      return { device: who };
    })
    .ws("/ws", {
      maxPayloadLength: MAX_FRAME_BYTES,
      idleTimeout: 120,
      detail: {
        summary: "The agent's pulse socket (WebSocket), opened with a signed handshake in the query string",
        description:
          '`sig` is the hex HMAC-SHA256, keyed with SHA-256 of the device secret, of `ts + ".ws:" + device + ":" + nonce`. ' +
          "`v` is the agent's protocol version (absent: 1). " +
          "Refused before the upgrade with 401 (bad or replayed handshake), 426 (`PROTOCOL_UNSUPPORTED`, `details.supported` lists the versions) or 503 with `Retry-After` (`RETRY_LATER`: held back; `SERVER_FULL`: the node is at its open-file limit; `NODE_UNAVAILABLE`: the node lost its cluster connection). " +
          "Frames are `{ v, id, type, data }` JSON (server/protocol/frames.ts); file chunks travel as binary messages between ends that said they take them (server/protocol/binary.ts).",
        tags: ["agent"],
      },
      async open(ws) {
        const device = ws.data.device;
        const conn: AgentConnection = {
          deviceId: device.id,
          organizationId: device.organizationId,
          send: (f) => {
            const text = JSON.stringify(f);
            ws.send(text);
            return Buffer.byteLength(text);
          },
          sendBinary: (f, payload) => {
            const message = encodeBinaryFrame(f, payload);
            ws.sendBinary(message);
            return message.length;
          },
          close: (code, reason) => ws.close(code, reason),
        };
        states.set(ws.id, { conn, badFrames: 0 });
        s.agents.add(conn);
        // recorded with the other sockets of this moment (one statement per batch, not per socket)
        const ackedSeq = await s.arrivals.open(device.id);
        if (ackedSeq === undefined) {
          // not recorded (database trouble): the agent reconnects later rather than run unseen
          ws.close(1013, "try again later");
          return;
        }
        conn.send(
          frame({
            type: "welcome",
            data: {
              deviceId: device.id,
              serverTime: new Date().toISOString(),
              settings: s.agents.settingsFor(device.id),
              ackedSeq,
              binaryChunks: true,
            },
          }),
        );
      },
      async message(ws, raw) {
        const st = states.get(ws.id);
        if (!st) return;
        const bad = (problem: string) => {
          st.badFrames++;
          st.conn.send(frame({ type: "error", data: { code: "BAD_FRAME", message: problem.slice(0, 500) } }));
          if (st.badFrames > MAX_BAD_FRAMES) ws.close(1008, "too many bad frames");
        };
        // a binary message: a download chunk's result with its bytes raw (protocol/binary.ts)
        const binary = raw instanceof Uint8Array ? decodeBinaryFrame(raw) : undefined;
        if (binary && "problem" in binary) return bad(binary.problem);
        const parsed = AgentFrame(binary ? binary.frame : typeof raw === "string" ? safeJson(raw) : raw);
        if (parsed instanceof type.errors) return bad(parsed.summary);
        if (binary && parsed.type !== "result") return bad(`a ${parsed.type} frame carries no binary payload`);
        const device = ws.data.device;
        try {
          switch (parsed.type) {
            case "hello":
              // facts, pending commands and a due rotation follow with the next batch of arrivals
              st.conn.binaryChunks = parsed.data.binaryChunks === true;
              s.arrivals.hello(device.id, parsed.data.agentVersion, parsed.data.facts, device.rotationDue);
              break;
            case "telemetry": {
              const t0 = performance.now();
              const r = await s.ingest.submit(device.id, device.organizationId, parsed.data);
              st.conn.send(
                frame({
                  id: parsed.id,
                  type: "ack",
                  data: { seq: parsed.data.seq, stored: r.stored },
                }),
              );
              s.agents.telemetryLatency.record(performance.now() - t0);
              break;
            }
            case "terminal_output":
              s.terminals.output(device.id, parsed.data.sessionId, parsed.data.data);
              break;
            case "terminal_exit":
              s.terminals.exited(device.id, parsed.data.sessionId, parsed.data.code, parsed.data.error);
              break;
            case "command_update":
              await s.commands.update(device.id, device.organizationId, parsed.data);
              break;
            case "result":
              if (binary) s.agents.settle(device.id, parsed.id, parsed.data, binary.payload, (raw as Uint8Array).length);
              else s.agents.settle(device.id, parsed.id, parsed.data);
              break;
          }
        } catch (err) {
          const code = err instanceof IngestBusy ? err.code : "SERVER_ERROR";
          if (code !== "INGEST_BUSY")
            log("error", "agent frame failed", {
              deviceId: device.id,
              type: parsed.type,
              error: String(err),
            });
          st.conn.send(
            frame({
              type: "error",
              data: {
                code,
                message: "frame not processed; send it again later",
              },
            }),
          );
          // Batches must be stored in order: after a failed one, later ones would overtake it.
          // Closing makes the agent replay from its oldest unacknowledged batch.
          if (parsed.type === "telemetry") ws.close(1013, "try again later");
        }
      },
      close(ws) {
        const st = states.get(ws.id);
        if (!st) return;
        states.delete(ws.id);
        if (s.agents.remove(st.conn)) s.terminals.agentGone(st.conn.deviceId);
        if (!s.agents.closing && !s.agents.get(st.conn.deviceId)) s.arrivals.close(st.conn.deviceId);
      },
    });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
