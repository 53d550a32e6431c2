import { hostname } from "node:os";
import { Kvm } from "@nats-io/kv";
import { type NatsConnection, connect } from "@nats-io/transport-node";
import type { AgentHub } from "../agents/hub.ts";
import type { CommandDispatcher } from "../commands/service.ts";
import type { LiveHub } from "../live/hub.ts";
import { log } from "../log.ts";
import type { TerminalHub } from "../terminal/sessions.ts";
import { ClusterBus } from "./bus.ts";
import { Leases } from "./leases.ts";
import { Presence } from "./presence.ts";
import { Routing } from "./routing.ts";
import type { ClusterView, Duty } from "./types.ts";
import { Wire } from "./wire.ts";

/** Timings of the cluster, ms. */
interface ClusterTimings {
  /** How often a node beats; a node silent for `deadAfterMs` is dead to the others. */
  beatMs: number;
  deadAfterMs: number;
  /** Life of a duty's lease in the KV bucket; renewed every `renewMs`; the holder stops `marginMs` before it could expire. */
  leaseTtlMs: number;
  renewMs: number;
  marginMs: number;
  /** A node without NATS this long sends its agents to other nodes and answers /readyz with 503. */
  cutAfterMs: number;
  /** Client pings to the NATS server (a silent network is noticed after `pingMs` × 2). */
  pingMs: number;
}

const DEFAULT_TIMINGS: ClusterTimings = {
  beatMs: 1000,
  deadAfterMs: 5000,
  leaseTtlMs: 10_000,
  renewMs: 2000,
  marginMs: 2500,
  cutAfterMs: 5000,
  pingMs: 2000,
};

/** The KV bucket of the duties' leases (JetStream). */
const LEASE_BUCKET = "sentpulse_leases";

export interface Cluster extends ClusterView {
  bus: ClusterBus;
  /**
   * Connects the node's agents, dashboards and terminals to the cluster (after they are built);
   * returns where the node's dashboards' watch changes go.
   */
  attach(d: { agents: AgentHub; live: LiveHub; terminals: TerminalHub; commands: CommandDispatcher }): Pick<Presence, "localWatch">;
  /** Graceful leave: duties given back, the others told at once, NATS drained. */
  leave(): Promise<void>;
}

/**
 * Joins the cluster on NATS at `url` (core subjects for events, presence and routing; a JetStream
 * KV bucket for the duties' leases). Fails when NATS cannot be reached or has no JetStream: a node
 * that believes itself clustered but is not would run every duty alone.
 */
export async function joinCluster(o: { url: string; nodeId: string }): Promise<Cluster> {
  const t = DEFAULT_TIMINGS;
  const wire = new Wire(o.nodeId, "sentpulse");
  const nc: NatsConnection = await connect({
    servers: o.url.split(",").map((s) => s.trim()),
    name: `sentpulse ${hostname()} ${o.nodeId}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: t.pingMs,
    maxPingOut: 2,
    timeout: 10_000,
  });
  wire.nc = nc;
  let kvm: Kvm;
  let leases: Leases;
  try {
    kvm = new Kvm(nc);
    const kv = await kvm.create(LEASE_BUCKET, { ttl: t.leaseTtlMs, history: 1 });
    leases = new Leases(kv, o.nodeId, t.leaseTtlMs, t.renewMs, t.marginMs);
  } catch (err) {
    await nc.close();
    throw new Error(
      `NATS at ${withoutCredentials(o.url)} has no usable JetStream (start nats-server with -js): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const bus = new ClusterBus(wire);
  bus.listen(nc);

  let lostAt: number | null = null;
  let presence: Presence | undefined;
  let agentsRef: AgentHub | undefined;
  let cutTimer: ReturnType<typeof setInterval> | undefined;
  let sentAway = false;

  // connection state: a node without NATS stops claiming duties (its leases run out) and, after
  // `cutAfterMs`, sends its agents to nodes that can route to them
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        lostAt ??= Date.now();
        log("warn", "cluster: NATS connection lost", { server: s.server });
      } else if (s.type === "reconnect") {
        const downMs = lostAt === null ? 0 : Date.now() - lostAt;
        lostAt = null;
        sentAway = false;
        wire.stats.reconnects++;
        log("info", "cluster: NATS connection back", { server: s.server, downMs });
        presence?.rejoin();
        void leases.tick();
      }
    }
  })();

  const cutFor = () => (lostAt === null ? 0 : Date.now() - lostAt);
  const view: ClusterView = {
    server: () => (lostAt === null && !nc.isClosed() ? (nc.getServer() ?? null) : null),
    connected: () => lostAt === null && !nc.isClosed(),
    nodes: () => presence?.nodes() ?? 1,
    remoteAgents: () => presence?.remoteAgents() ?? 0,
    duties: () => leases.duties(),
    holds: (duty: Duty) => leases.holds(duty),
    stats: wire.stats,
  };

  return {
    ...view,
    bus,
    attach(d) {
      agentsRef = d.agents;
      // core NATS delivers at most once: what another node forwarded while the bus was cut may be
      // lost, so after any node's (re)join this node sends its agents their pending commands again
      // (they are in the database; an agent runs each command once)
      let redelivering = false;
      const redeliver = () => {
        if (redelivering) return;
        redelivering = true;
        void Bun.sleep(250)
          .then(() => d.commands.redeliver(d.agents.connectedHere()))
          .then((n) => {
            if (n > 0) log("info", "cluster: pending commands sent again after a rejoin", { commands: n });
          })
          .catch((err) => log("warn", "cluster: could not send pending commands again", { error: String(err) }))
          .finally(() => {
            redelivering = false;
          });
      };
      presence = new Presence(wire, d, t.beatMs, t.deadAfterMs, redeliver);
      const routing = new Routing(wire, presence, d);
      presence.listen(nc);
      routing.listen(nc);
      d.agents.remote = routing;
      d.agents.onPresence = (id, up) => presence?.local(id, up);
      d.agents.unavailableFor = () => (cutFor() > t.cutAfterMs ? Math.ceil(t.cutAfterMs / 1000) : 0);
      d.live.relay = (org, ev) => routing.relayLive(org, ev);
      d.live.watchedElsewhere = (id) => presence?.watchedElsewhere(id) ?? false;
      d.terminals.cluster = routing.terminal;
      presence.start();
      leases.start();
      cutTimer = setInterval(() => {
        if (sentAway || cutFor() <= t.cutAfterMs || !agentsRef) return;
        sentAway = true;
        log("warn", "cluster: cut off from NATS; agents sent to other nodes", { agents: agentsRef.size, lostMs: cutFor() });
        agentsRef.closeAll(false);
      }, 500);
      return presence;
    },
    async leave() {
      clearInterval(cutTimer);
      await leases.release();
      presence?.stop();
      bus.close();
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** The NATS URL(s) for a message: user and password (or token) left out. */
function withoutCredentials(urls: string): string {
  return urls.replace(/\/\/[^@/,]*@/g, "//");
}
