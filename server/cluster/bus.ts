import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { type EventBus, type Events, type Handler, LocalBus, type SubscribeOptions, type Topic } from "../events/bus.ts";
import type { Wire } from "./wire.ts";

/**
 * The event bus of a cluster node: the in-process bus for this node's subscribers (same order, same
 * error handling, same `settled()`), and core NATS subjects between nodes. An event published here
 * runs this node's `origin` and `all` subscribers (once per cluster: the publisher does the work);
 * it goes over NATS only when some subscriber wants it on other nodes (`all`, `others`), and each
 * other node runs those subscribers once. A node never applies its own message back (no echo).
 * Events that cross carry plain JSON (ids, names, numbers), never dates or buffers.
 */
export class ClusterBus implements EventBus {
  private readonly local = new LocalBus();
  private sub: Subscription | undefined;

  constructor(private readonly wire: Wire) {}

  /** Starts applying other nodes' events. */
  listen(nc: NatsConnection): void {
    this.sub = this.wire.listen(nc, "events.>", "event", (m) => {
      const topic = m.subject.slice(this.wire.subject("events.").length) as Topic;
      this.local.deliverRemote(topic, m.body as Events[Topic]);
    });
  }

  publish<T extends Topic>(topic: T, event: Events[T]): void {
    this.local.publish(topic, event);
    if (this.local.wantsRemote(topic)) this.wire.publish(`events.${topic}`, "event", event);
  }

  subscribe<T extends Topic>(topic: T, handler: Handler<T>, options?: SubscribeOptions): () => void {
    return this.local.subscribe(topic, handler, options);
  }

  settled(): Promise<void> {
    return this.local.settled();
  }

  close(): void {
    this.sub?.unsubscribe();
  }
}
