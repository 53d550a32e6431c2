import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { log } from "../log.ts";
import { decodeBinaryFrame, encodeBinaryFrame } from "../protocol/binary.ts";
import type { BusStats } from "./types.ts";

/** A message from another node as a handler sees it. */
export interface Received {
  subject: string;
  /** The node that sent it. */
  from: string;
  body: unknown;
  /** Bytes that travelled raw beside the body (a file chunk). */
  payload?: Uint8Array;
  /** Set on requests: the answer (and its raw bytes, if any) goes back to the asking node. */
  respond?: (body: unknown, payload?: Uint8Array) => void;
}

/** Largest message a node publishes (NATS' default max_payload is 1 MiB); larger ones are dropped and logged. */
const MAX_MESSAGE_BYTES = 900 * 1024;

/**
 * The bytes between nodes: every message is JSON `{ o: nodeId, b: body }` on a subject under one
 * prefix (`sentpulse.` by default), counted for /metrics; one that carries a file chunk is a binary
 * message instead (protocol/binary.ts: a length prefix, that JSON, then the chunk's bytes raw; told
 * apart by its first byte, 0 where JSON starts with `{`). A node's own messages are ignored on
 * receipt, so nothing is applied twice on the node that published it. Nothing here throws into a
 * caller: a message that cannot be sent or read is counted and logged.
 */
export class Wire {
  nc: NatsConnection | undefined;
  readonly stats: BusStats = { sent: {}, received: {}, bytesSent: 0, bytesReceived: 0, dropped: 0, reconnects: 0, callsFailed: 0 };

  constructor(
    readonly nodeId: string,
    private readonly prefix: string,
  ) {}

  subject(s: string): string {
    return `${this.prefix}.${s}`;
  }

  publish(subject: string, kind: string, body: unknown): void {
    const data = this.encode(kind, body);
    if (!data || !this.nc) return;
    try {
      this.nc.publish(this.subject(subject), data);
    } catch (err) {
      this.stats.dropped++;
      log("warn", "cluster message not sent", { kind, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** A request to one node; resolves to its answer's body and raw bytes, or rejects (no responder, timeout, closed, unreadable). */
  async request(
    subject: string,
    kind: string,
    body: unknown,
    timeoutMs: number,
    payload?: Uint8Array,
  ): Promise<{ body: unknown; payload?: Uint8Array }> {
    const data = this.encode(kind, body, payload);
    if (!data || !this.nc) throw new Error("not connected");
    const m = await this.nc.request(this.subject(subject), data, { timeout: timeoutMs });
    this.stats.bytesReceived += m.data.length;
    const answer = decode(m.data);
    if (!answer) throw new Error("unreadable answer");
    return { body: answer.message.b, payload: answer.payload };
  }

  /** Calls `handler` for each message of another node on `subject` (wildcards allowed). */
  listen(nc: NatsConnection, subject: string, kind: string, handler: (m: Received) => void): Subscription {
    return nc.subscribe(this.subject(subject), {
      callback: (err, msg) => {
        if (err) {
          log("warn", "cluster subscription failed", { kind, error: err.message });
          return;
        }
        this.receive(msg, kind, handler);
      },
    });
  }

  private receive(msg: Msg, kind: string, handler: (m: Received) => void): void {
    this.stats.bytesReceived += msg.data.length;
    const decoded = decode(msg.data);
    const parsed = decoded?.message;
    if (!decoded || typeof parsed !== "object" || parsed === null || typeof parsed.o !== "string") {
      this.stats.dropped++;
      return;
    }
    if (parsed.o === this.nodeId) return;
    this.stats.received[kind] = (this.stats.received[kind] ?? 0) + 1;
    try {
      handler({
        subject: msg.subject,
        from: parsed.o,
        body: parsed.b,
        payload: decoded.payload,
        respond: msg.reply ? (body, payload) => void msg.respond(this.encode(`${kind}.reply`, body, payload) ?? "") : undefined,
      });
    } catch (err) {
      this.stats.dropped++;
      log("error", "cluster message failed", { kind, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private encode(kind: string, body: unknown, payload?: Uint8Array): string | Uint8Array | undefined {
    let data: string | Uint8Array;
    try {
      data = payload ? encodeBinaryFrame({ o: this.nodeId, b: body }, payload) : JSON.stringify({ o: this.nodeId, b: body });
    } catch (err) {
      this.stats.dropped++;
      log("error", "cluster message cannot be encoded; dropped", { kind, error: String(err).slice(0, 200) });
      return undefined;
    }
    const bytes = typeof data === "string" ? Buffer.byteLength(data) : data.length;
    if (bytes > MAX_MESSAGE_BYTES) {
      this.stats.dropped++;
      log("error", "cluster message too large; dropped", { kind, bytes });
      return undefined;
    }
    this.stats.sent[kind] = (this.stats.sent[kind] ?? 0) + 1;
    this.stats.bytesSent += bytes;
    return data;
  }
}

/** A message's JSON (`{ o, b }`) and, for a binary one, its raw bytes; undefined when it cannot be read. */
function decode(data: Uint8Array): { message: { o?: unknown; b?: unknown }; payload?: Uint8Array } | undefined {
  if (data.length > 0 && data[0] === 0) {
    const r = decodeBinaryFrame(data);
    return "problem" in r ? undefined : { message: r.frame, payload: r.payload };
  }
  try {
    const message = JSON.parse(new TextDecoder().decode(data)) as { o?: unknown; b?: unknown };
    return typeof message === "object" && message !== null ? { message } : undefined;
  } catch {
    return undefined;
  }
}
