import { type } from "arktype";
import type { NatsConnection } from "@nats-io/transport-node";
import type { AgentHub } from "../agents/hub.ts";
import type { LiveHub } from "../live/hub.ts";
import { log } from "../log.ts";
import type { TerminalHub } from "../terminal/sessions.ts";
import type { Wire } from "./wire.ts";

/** Ids announced per message (a node's whole list goes in chunks: 5,000 UUIDs ≈ 200 KB). */
const CHUNK = 5000;
/** Local connects and disconnects are gathered this long into one announcement, ms. */
const GATHER_MS = 20;
/** Every node announces its whole state this often besides, ms: a message lost on the way is healed. */
const REANNOUNCE_MS = 60_000;

const Uuids = type("string[] <= 5000");
/**
 * A node's whole list goes in chunks: `reset` on the first, `last` on the final one. What the node had
 * announced before and the whole list leaves out is forgotten at the last chunk (never in between, so
 * routing never misses an agent while a list is on its way).
 */
const PresenceMsg = type({ up: Uuids, down: Uuids, "reset?": "boolean", "last?": "boolean" });
const WatchMsg = type({ on: Uuids, off: Uuids, "reset?": "boolean", "last?": "boolean" });

interface Peer {
  seenAt: number;
  devices: Set<string>;
  watches: Set<string>;
  /** The whole lists being received (from a `reset` chunk to the `last`). */
  listing?: Set<string>;
  watchListing?: Set<string>;
}

/**
 * Which node holds which agent's socket, and which devices dashboards on other nodes watch.
 *
 * Kept in memory on every node from core NATS messages: each node announces its sockets as they open
 * and close (gathered 20 ms) and its watched devices as they change, and beats every `beatMs`. A
 * node not heard from for `deadAfterMs` is dead: its agents and watches are forgotten (its agents
 * are reconnecting elsewhere). A node seen for the first time (started, or back after a loss of
 * NATS) gets every node's whole state again, so no node waits on a lookup. The database keeps the
 * durable copy (`devices.ws_node` with `server_nodes.heartbeat_at`, read by the status sweep); this
 * copy is what routing reads on every frame, without a query.
 */
export class Presence {
  private readonly holder = new Map<string, string>();
  private readonly peers = new Map<string, Peer>();
  private readonly watchedBy = new Map<string, Set<string>>();
  private pending = new Map<string, boolean>();
  private gather: ReturnType<typeof setTimeout> | undefined;
  private beat: ReturnType<typeof setInterval> | undefined;
  private reannounce: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly wire: Wire,
    private readonly d: { agents: AgentHub; live: LiveHub; terminals: TerminalHub },
    private readonly beatMs = 1000,
    private readonly deadAfterMs = 5000,
    /** A node (this one or another) joined or came back: what the bus carried meanwhile may be lost. */
    private readonly onRejoin: () => void = () => {},
  ) {}

  listen(nc: NatsConnection): void {
    this.wire.listen(nc, "presence", "presence", (m) => {
      const body = PresenceMsg(m.body);
      if (body instanceof type.errors) return void this.wire.stats.dropped++;
      const peer = this.peer(m.from);
      if (body.reset) peer.listing = new Set();
      for (const id of body.up) {
        peer.listing?.add(id);
        const was = this.holder.get(id);
        if (was && was !== m.from) this.peers.get(was)?.devices.delete(id);
        if (this.d.agents.get(id)) continue; // here now: the other node's word is older
        this.holder.set(id, m.from);
        peer.devices.add(id);
      }
      for (const id of body.down) this.forgetAgent(m.from, id);
      if (body.last && peer.listing) {
        for (const id of [...peer.devices]) if (!peer.listing.has(id)) this.forgetAgent(m.from, id);
        peer.listing = undefined;
      }
    });
    this.wire.listen(nc, "watch", "watch", (m) => {
      const body = WatchMsg(m.body);
      if (body instanceof type.errors) return void this.wire.stats.dropped++;
      const peer = this.peer(m.from);
      const changed = new Set<string>();
      if (body.reset) peer.watchListing = new Set();
      for (const id of body.on) {
        peer.watchListing?.add(id);
        peer.watches.add(id);
        const set = this.watchedBy.get(id) ?? new Set<string>();
        this.watchedBy.set(id, set);
        set.add(m.from);
        changed.add(id);
      }
      for (const id of body.off) changed.add(this.unwatch(m.from, peer, id));
      if (body.last && peer.watchListing) {
        for (const id of [...peer.watches]) if (!peer.watchListing.has(id)) changed.add(this.unwatch(m.from, peer, id));
        peer.watchListing = undefined;
      }
      for (const id of changed) this.d.agents.setLive(id, this.d.live.isWatched(id));
    });
    this.wire.listen(nc, "node.beat", "beat", (m) => void this.peer(m.from));
    // a node that may have missed messages (its NATS connection came back) asks for everyone's state
    this.wire.listen(nc, "node.hello", "hello", (m) => {
      if (this.peers.has(m.from)) this.announceAll();
      this.peer(m.from);
      this.onRejoin();
    });
    this.wire.listen(nc, "node.bye", "bye", (m) => this.drop(m.from, "left"));
  }

  /** Starts beating and watching peers' beats. */
  start(): void {
    this.beat = setInterval(() => {
      this.wire.publish("node.beat", "beat", {});
      const cutoff = Date.now() - this.deadAfterMs;
      for (const [id, p] of this.peers) if (p.seenAt < cutoff) this.drop(id, "silent");
    }, this.beatMs);
    this.reannounce = setInterval(() => this.announceAll(), REANNOUNCE_MS);
    this.rejoin();
  }

  /** After joining or getting NATS back: this node's state out, everyone else's asked for. */
  rejoin(): void {
    this.announceAll();
    this.wire.publish("node.hello", "hello", {});
    this.onRejoin();
  }

  /** Leaving the cluster: the others forget this node at once. */
  stop(): void {
    clearInterval(this.beat);
    clearInterval(this.reannounce);
    clearTimeout(this.gather);
    this.flush();
    this.wire.publish("node.bye", "bye", {});
  }

  /** The node holding a device's socket, when another node does. */
  nodeOf(deviceId: string): string | undefined {
    return this.holder.get(deviceId);
  }

  watchedElsewhere(deviceId: string): boolean {
    return (this.watchedBy.get(deviceId)?.size ?? 0) > 0;
  }

  /** Nodes heard from (this one included). */
  nodes(): number {
    return this.peers.size + 1;
  }

  remoteAgents(): number {
    return this.holder.size;
  }

  /** A socket opened or closed here (announced with the others of the next 20 ms). */
  local(deviceId: string, connected: boolean): void {
    if (connected) this.holder.delete(deviceId);
    this.pending.set(deviceId, connected);
    this.gather ??= setTimeout(() => this.flush(), GATHER_MS);
  }

  /** The watch count of a device on this node went from 0 to 1 or back. */
  localWatch(deviceId: string, watched: boolean): void {
    this.wire.publish("watch", "watch", watched ? { on: [deviceId], off: [] } : { on: [], off: [deviceId] });
    this.d.agents.setLive(deviceId, this.d.live.isWatched(deviceId));
  }

  /** Announces this node's whole state (after joining, after NATS came back, to a node seen for the first time). */
  announceAll(): void {
    clearTimeout(this.gather);
    this.gather = undefined;
    this.pending.clear();
    const agents = this.d.agents.connectedHere();
    for (let i = 0; i === 0 || i < agents.length; i += CHUNK)
      this.wire.publish("presence", "presence", {
        up: agents.slice(i, i + CHUNK),
        down: [],
        reset: i === 0,
        last: i + CHUNK >= agents.length,
      });
    const watched = this.d.live.watchedHere();
    for (let i = 0; i === 0 || i < watched.length; i += CHUNK)
      this.wire.publish("watch", "watch", { on: watched.slice(i, i + CHUNK), off: [], reset: i === 0, last: i + CHUNK >= watched.length });
  }

  private flush(): void {
    this.gather = undefined;
    if (this.pending.size === 0) return;
    const up: string[] = [];
    const down: string[] = [];
    for (const [id, connected] of this.pending) (connected ? up : down).push(id);
    this.pending.clear();
    for (let i = 0; i < up.length; i += CHUNK) this.wire.publish("presence", "presence", { up: up.slice(i, i + CHUNK), down: [] });
    for (let i = 0; i < down.length; i += CHUNK) this.wire.publish("presence", "presence", { up: [], down: down.slice(i, i + CHUNK) });
  }

  private peer(id: string): Peer {
    let p = this.peers.get(id);
    if (!p) {
      p = { seenAt: Date.now(), devices: new Set(), watches: new Set() };
      this.peers.set(id, p);
      log("info", "cluster node joined", { node: id, nodes: this.peers.size + 1 });
      // it knows nothing of this node yet (just started, or back after losing NATS)
      this.announceAll();
    }
    p.seenAt = Date.now();
    return p;
  }

  private forgetAgent(node: string, deviceId: string): void {
    this.peers.get(node)?.devices.delete(deviceId);
    if (this.holder.get(deviceId) === node) this.holder.delete(deviceId);
  }

  private unwatch(node: string, peer: Peer, deviceId: string): string {
    peer.watches.delete(deviceId);
    const set = this.watchedBy.get(deviceId);
    set?.delete(node);
    if (set?.size === 0) this.watchedBy.delete(deviceId);
    return deviceId;
  }

  /** A node left or went silent: its agents are reconnecting elsewhere, their shells are gone, its dashboards watch nothing. */
  private drop(node: string, why: "left" | "silent"): void {
    const p = this.peers.get(node);
    if (!p) return;
    this.peers.delete(node);
    log(why === "left" ? "info" : "warn", `cluster node ${why}`, { node, agents: p.devices.size, nodes: this.peers.size + 1 });
    for (const id of p.devices) {
      if (this.holder.get(id) !== node) continue;
      this.holder.delete(id);
      this.d.terminals.agentGone(id, true);
    }
    for (const id of [...p.watches]) {
      this.unwatch(node, p, id);
      this.d.agents.setLive(id, this.d.live.isWatched(id));
    }
  }
}
