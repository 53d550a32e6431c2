import nodemailer from "nodemailer";
import type { Sql } from "postgres";
import { log } from "../log.ts";
import type { SecretBox } from "./crypto.ts";
import { type Message, httpRequestFor } from "./senders.ts";
import { type ChannelType, claimDue, enqueue, markDelivered, markFailed } from "./store.ts";

/** Attempts before a delivery goes to the dead-letter list. */
const MAX_ATTEMPTS = 5;
/** Seconds before retry n (1-based): base, 2×base, 4×base … capped at an hour (base 5 s by default). */
export const backoffSeconds = (attempt: number, base = 5) => Math.min(3600, base * 2 ** (attempt - 1));
const TIMEOUT_MS = 10_000;

/** Delivers one message on one channel; throws with a readable reason when it fails. */
export async function deliver(type: ChannelType, config: Record<string, unknown>, m: Message): Promise<void> {
  if (type === "email") {
    const transport = nodemailer.createTransport({
      host: String(config.host),
      port: Number(config.port),
      secure: Boolean(config.secure),
      ...(config.user ? { auth: { user: String(config.user), pass: String(config.password ?? "") } } : {}),
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
    await transport.sendMail({ from: String(config.from), to: (config.to as string[]).join(", "), subject: m.subject, text: m.text });
    return;
  }
  const { url, init } = httpRequestFor(type, config, m);
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`HTTP ${res.status} from the ${type} endpoint`);
}

/**
 * The outbox worker: every delivery is a row first (so a restart loses nothing), claimed with a
 * lease, retried with exponential backoff, and moved to the dead-letter list after MAX_ATTEMPTS.
 */
export class Notifier {
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy = false;
  private stopped = false;
  /** The delivery pass in flight, awaited by `idle()` (shutdown). */
  private running: Promise<void> = Promise.resolve();

  /** Whether this node delivers the outbox now (in a cluster, one node at a time holds the duty; the others only queue). */
  duty: () => boolean = () => true;

  constructor(
    private readonly sql: Sql,
    private readonly box: SecretBox,
    private readonly retryBaseSeconds = 5,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Resolves once the delivery pass in flight (if any) has finished; queued messages stay in the outbox for the next start. */
  idle(): Promise<void> {
    return this.running;
  }

  /** Queues a message for the given channels of an organization. */
  async notify(organizationId: string, channelIds: string[], alertId: string | null, event: string, message: Message): Promise<void> {
    await enqueue(this.sql, { organizationId, channelIds, alertId, event, payload: message });
    if (!this.stopped) void this.tick();
  }

  /** One pass over due deliveries (skipped while one runs). */
  tick(): Promise<void> {
    if (this.busy || !this.duty()) return this.running;
    this.busy = true;
    this.running = this.deliverDue();
    return this.running;
  }

  private async deliverDue(): Promise<void> {
    try {
      for (const d of await claimDue(this.sql, 20, 60)) {
        try {
          await deliver(d.type, JSON.parse(this.box.open(d.configEncrypted)), d.payload);
          await markDelivered(this.sql, d.id);
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          const status = await markFailed(this.sql, d.id, reason, backoffSeconds(d.attempts + 1, this.retryBaseSeconds), MAX_ATTEMPTS);
          log(status === "dead" ? "warn" : "info", "notification failed", { deliveryId: d.id, attempt: d.attempts + 1, status, reason });
        }
      }
    } catch (err) {
      log("error", "notification worker failed", { error: String(err) });
    } finally {
      this.busy = false;
    }
  }
}
