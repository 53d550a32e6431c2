import { log } from "../log.ts";
import type { TelemetrySample } from "../protocol/telemetry.ts";
import type { StatusChange } from "../devices/status.store.ts";
import type { SampleSummary } from "../telemetry/rows.ts";

/** One sample as stored (committed), with the figures live charts and rules read. */
export interface StoredSample {
  deviceId: string;
  organizationId: string;
  sample: TelemetrySample;
  summary: SampleSummary;
}

/** An alert fired, resolved, started or stopped flapping: who to notify and what to say. */
export interface AlertChanged {
  organizationId: string;
  channelIds: string[];
  alertId: string | null;
  /** `alert.flapping` and `alert.stable` are notices only (no workflows run for them). */
  event: "alert.firing" | "alert.resolved" | "alert.flapping" | "alert.stable";
  message: { subject: string; text: string; alert: Record<string, unknown> };
}

/** A command reached a final state on its device. */
export interface CommandFinished {
  organizationId: string;
  deviceId: string;
  commandId: string;
  status: "succeeded" | "failed" | "timed_out" | "cancelled" | "expired";
  exitCode: number | null;
  /** Set on the runs of a script check. */
  checkRuleId: string | null;
  stdout: string;
  stderr: string;
  /** When it finished, ms. */
  at: number;
}

/** A schedule's occurrence that runs a workflow, once per device, after the occurrence committed. */
interface ScheduleDue {
  organizationId: string;
  workflowId: string;
  deviceIds: string[];
  scheduleName: string;
}

/**
 * The events capabilities react to across folders, by topic. Publishers and subscribers are listed
 * in docs/architecture.md; each capability subscribes in its own folder (`events.ts` or its service).
 */
export interface Events {
  /** A telemetry batch was committed (after COPY): live charts, rules. */
  "telemetry.stored": { samples: StoredSample[] };
  /** Devices changed status (online / unresponsive / offline): offline rules, workflows. */
  "device.status": { changes: StatusChange[]; at: number };
  /** An alert changed: notifications, workflows. */
  "alert.changed": AlertChanged;
  /** A command finished: script checks feed their rule. */
  "command.finished": CommandFinished;
  /** A schedule's workflow occurrence is due. */
  "schedule.due": ScheduleDue;
  /** A wake schedule's occurrence is due: its devices are woken through neighbours. */
  "schedule.wake": { organizationId: string; scheduleId: string; scheduleName: string; deviceIds: string[] };
  /** Devices' facts (hello), tags or site changed, or they were deleted: smart groups re-evaluate them. */
  "device.changed": { deviceIds: string[] };
  /** A site's settings changed (its default bandwidth cap of file transfers): every node's cached caps are dropped. */
  "site.changed": { organizationId: string; siteId: string };
  /** A smart group was created, changed or deleted: its organization's membership is re-evaluated. */
  "group.changed": { organizationId: string; groupId: string };
  /** Devices joined or left smart groups (written): group-scoped alert rules follow at once. */
  "group.membership": { changes: { groupId: string; deviceId: string; joined: boolean }[] };
  /** A policy, one of its assignments or an inheritance block changed: policy-scoped rules follow at once. */
  "policy.changed": { organizationId: string; policyId: string | null };
  /** A state change was made with a session or an API key: every node's principal cache empties (it may have revoked or narrowed someone). */
  "principals.changed": Record<string, never>;
  /** Alert rules or maintenance windows changed (the node that changed them reloaded already): other nodes reload theirs. */
  "rules.changed": { organizationId: string };
}

export type Topic = keyof Events;
export type Handler<T extends Topic> = (event: Events[T]) => void | Promise<void>;

/**
 * Where a subscriber runs when several server nodes share a bus (one process: on that process).
 * `origin` (the default): on the node that published, so the work is done once per cluster (an alert
 * raised, a workflow started). `all`: on every node (a cache every node keeps). `others`: on every node
 * but the publisher (it did the work itself before publishing: the rest follow).
 */
export interface SubscribeOptions {
  nodes?: "origin" | "all" | "others";
}

/**
 * Typed publish/subscribe between capabilities. In one process it is `LocalBus`; a message bus
 * between server nodes (NATS) implements the same interface.
 */
export interface EventBus {
  /** Hands the event to every subscriber of its topic; never throws (a failing subscriber is logged). */
  publish<T extends Topic>(topic: T, event: Events[T]): void;
  /** Calls `handler` for each event of `topic` from now on (where: `SubscribeOptions`); returns the unsubscribe function. */
  subscribe<T extends Topic>(topic: T, handler: Handler<T>, options?: SubscribeOptions): () => void;
  /** Resolves once every reaction started so far has finished (shutdown drains with it; tests wait on it). */
  settled(): Promise<void>;
}

/**
 * The in-process bus: subscribers run synchronously, in the order they subscribed, inside
 * `publish`; a promise a subscriber returns is not awaited, only watched for failure. So a publisher
 * is never slowed by a slow reaction and never sees a subscriber's error. Being the only node, it
 * runs `origin` and `all` subscribers and never `others` ones.
 */
export class LocalBus implements EventBus {
  private readonly handlers = new Map<Topic, Set<Handler<Topic>>>();
  /** `others` subscribers: run only by `deliverRemote` (an event another node published). */
  private readonly remoteOnly = new Map<Topic, Set<Handler<Topic>>>();
  /** `all` subscribers (also in `handlers`): run by `deliverRemote` too. */
  private readonly everyNode = new Map<Topic, Set<Handler<Topic>>>();
  private readonly running = new Set<Promise<void>>();

  publish<T extends Topic>(topic: T, event: Events[T]): void {
    this.run(topic, event, this.handlers.get(topic));
  }

  /** An event another node published: its `all` and `others` subscribers run here (the cluster bus calls it). */
  deliverRemote<T extends Topic>(topic: T, event: Events[T]): void {
    this.run(topic, event, this.everyNode.get(topic));
    this.run(topic, event, this.remoteOnly.get(topic));
  }

  /** Whether any subscriber here wants this topic's events from other nodes. */
  wantsRemote(topic: Topic): boolean {
    return (this.everyNode.get(topic)?.size ?? 0) + (this.remoteOnly.get(topic)?.size ?? 0) > 0;
  }

  private run<T extends Topic>(topic: T, event: Events[T], handlers: Set<Handler<Topic>> | undefined): void {
    for (const handler of handlers ?? []) {
      try {
        const done = (handler as Handler<T>)(event);
        if (done instanceof Promise) {
          const watched = done.catch((err) => failed(topic, err)).finally(() => this.running.delete(watched));
          this.running.add(watched);
        }
      } catch (err) {
        failed(topic, err);
      }
    }
  }

  async settled(): Promise<void> {
    // reactions may publish further events: wait until a pass finds nothing running
    while (this.running.size > 0) await Promise.all(this.running);
  }

  subscribe<T extends Topic>(topic: T, handler: Handler<T>, options: SubscribeOptions = {}): () => void {
    const h = handler as Handler<Topic>;
    const sets = [
      ...(options.nodes === "others" ? [] : [this.handlers]),
      ...(options.nodes === "others" ? [this.remoteOnly] : options.nodes === "all" ? [this.everyNode] : []),
    ].map((byTopic) => {
      const set = byTopic.get(topic) ?? new Set();
      byTopic.set(topic, set);
      set.add(h);
      return set;
    });
    return () => {
      for (const set of sets) set.delete(h);
    };
  }
}

function failed(topic: Topic, err: unknown): void {
  log("error", "event subscriber failed", { topic, error: err instanceof Error ? err.message : String(err) });
}
