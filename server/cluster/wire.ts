import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { log } from "../log.ts";
import type { BusStats } from "./types.ts";

/** A message from another node as a handler sees it. */
export interface Received {
  subject: string;
  /** The node that sent it. */
  from: string;
  body: unknown;
  /** Set on requests: the answer goes back to the asking node. */
  respond?: (body: unknown) => void;
}

/** Largest message a node publishes (NATS' default max_payload is 1 MiB); larger ones are dropped and logged. */
const MAX_MESSAGE_BYTES = 900 * 1024;

/**
 * The bytes between nodes: every message is JSON `{ o: nodeId, b: body }` on a subject under one
 * prefix (`sentpulse.` by default), counted for /metrics. A node's own messages are ignored on
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

  /** A request to one node; resolves to its answer's body, or rejects (no responder, timeout, closed). */
  async request(subject: string, kind: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const data = this.encode(kind, body);
    if (!data || !this.nc) throw new Error("not connected");
    const m = await this.nc.request(this.subject(subject), data, { timeout: timeoutMs });
    this.stats.bytesReceived += m.data.length;
    return m.json<{ b?: unknown }>().b;
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
    let parsed: { o?: unknown; b?: unknown };
    try {
      parsed = msg.json();
    } catch {
      this.stats.dropped++;
      return;
    }
    if (typeof parsed !== "object" || parsed === null || typeof parsed.o !== "string") {
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
        respond: msg.reply ? (body) => void msg.respond(this.encode(`${kind}.reply`, body) ?? "") : undefined,
      });
    } catch (err) {
      this.stats.dropped++;
      log("error", "cluster message failed", { kind, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private encode(kind: string, body: unknown): string | undefined {
    const data = JSON.stringify({ o: this.nodeId, b: body });
    const bytes = Buffer.byteLength(data);
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
