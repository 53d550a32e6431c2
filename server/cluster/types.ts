/**
 * What the rest of the server sees of the cluster (types only: nothing here loads NATS; the
 * implementation in cluster.ts is imported dynamically when `SENTPULSE_NATS_URL` is set).
 */

/** Work done by one node of the cluster at a time, each under its own lease. */
export const DUTIES = ["status", "schedules", "notifications", "escalations", "maintenance"] as const;
export type Duty = (typeof DUTIES)[number];

/** Counters of the bus between nodes, read by /metrics. */
export interface BusStats {
  /** Messages this node published, by kind (event, live, presence, send, call, terminal, …). */
  sent: Record<string, number>;
  /** Messages from other nodes this node applied, by kind. */
  received: Record<string, number>;
  bytesSent: number;
  bytesReceived: number;
  /** Messages that could not be read (not JSON, wrong shape): dropped and counted. */
  dropped: number;
  /** Times the NATS connection came back after a loss. */
  reconnects: number;
  /** Calls to agents on other nodes that failed at the bus (no node answered in time). */
  callsFailed: number;
}

/** This node's view of the cluster: for /readyz, /metrics and the cluster duties. */
export interface ClusterView {
  /** NATS server this node is connected to (null while disconnected). */
  server(): string | null;
  /** Connected to NATS now. */
  connected(): boolean;
  /** Nodes heard from within the liveness window, this one included. */
  nodes(): number;
  /** Agents whose sockets other nodes hold, as this node knows them. */
  remoteAgents(): number;
  /** Duties this node holds now. */
  duties(): Duty[];
  /** Whether this node holds the duty now (checked before each run of it). */
  holds(duty: Duty): boolean;
  readonly stats: BusStats;
}
