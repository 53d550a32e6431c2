import { Histogram } from "../lib/histogram.ts";
import { type AgentSettings, type CallResult, type ServerFrame, serverFrame, type Unenveloped } from "../protocol/frames.ts";

export interface AgentConnection {
  deviceId: string;
  organizationId: string;
  /** Sends a text frame; the agent socket returns the bytes it put on the socket (a number; stand-ins in tests return nothing). */
  send(frame: ServerFrame): unknown;
  /** Sends a frame with raw bytes as a binary message (protocol/binary.ts); returns the bytes it put on the socket. */
  sendBinary?(frame: ServerFrame, payload: Uint8Array): number;
  /** Set from the agent's hello: it takes upload chunks as binary messages (until then, and for older agents, base64). */
  binaryChunks?: boolean;
  close(code: number, reason: string): void;
}

/**
 * A call's answer as the caller sees it: the agent's result, and for a chunk call the bytes that
 * travelled raw beside it (`payload`, from a binary message) and the bytes the chunk's message took
 * on the agent's socket (`wireBytes`: the upload's `write` frame, or the download's `result`).
 */
export type CallReply = CallResult & { payload?: Uint8Array; wireBytes?: number };

/** Text-frame bytes of a result whose chunk came in base64, beyond the base64 itself (envelope, id, flags): an estimate, the frame arrives parsed. */
export const TEXT_RESULT_OVERHEAD_BYTES = 160;

interface PendingCall {
  resolve(r: CallReply): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A `files` write frame for an agent without binary chunks: the bytes go in base64 as the request's
 * `data`, as they always did.
 */
function withBase64Payload(frame: ServerFrame, payload: Uint8Array): ServerFrame {
  if (frame.type !== "files" || frame.data.op !== "write") throw new Error(`a ${frame.type} frame carries no payload`);
  return {
    ...frame,
    data: { ...frame.data, data: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("base64") },
  };
}

/**
 * The agents whose sockets other server nodes hold (set in services.ts when the node is part of a
 * cluster): frames and calls for them travel over the cluster's bus to the node that holds them.
 */
export interface RemoteAgents {
  /** Whether another node holds this device's socket. */
  holds(deviceId: string): boolean;
  /** Forwards an enveloped frame to the node holding the device; false when none does. */
  send(deviceId: string, frame: ServerFrame): boolean;
  /** A call to an agent on another node (`NOT_CONNECTED` when none holds it); a payload travels raw. */
  call(deviceId: string, frame: ServerFrame, timeoutMs: number, payload?: Uint8Array): Promise<CallReply>;
  /** Holds the device back on every other node and closes its socket where it is; true when another node held it. */
  disconnect(deviceId: string, seconds: number): boolean;
}

/** Most calls in flight to one agent; more are refused rather than queued without bound. */
const MAX_PENDING_CALLS = 64;
/** Most devices held back from reconnecting at once. */
const MAX_HOLDS = 100_000;
/** Reconnects per second a fleet is spread to after a restart (handshakes, welcomes and first batches). */
const RECONNECTS_PER_S = 500;
/** Bounds of the reconnect window named to agents, seconds. */
const MIN_RECONNECT_WINDOW_S = 5;
const MAX_RECONNECT_WINDOW_S = 300;
/** Most seconds a restart adds to the reconnect window (a start slowed by a long migration says little about the next). */
const MAX_RESTART_ALLOWANCE_S = 60;

/**
 * The agents connected to this node: send frames, make calls that resolve to
 * `{ ok: true, data } | { ok: false, code }` by a deadline, and switch live mode.
 */
export class AgentHub {
  private readonly connections = new Map<string, AgentConnection>();
  private readonly calls = new Map<string, Map<string, PendingCall>>();
  private readonly holds = new Map<string, number>();
  private readonly liveDevices = new Set<string>();

  /** Server-side time from a telemetry frame's arrival to its ack (after commit), ms. */
  readonly telemetryLatency = new Histogram();

  /** Whether a new agent socket may open (0) or how many seconds it should wait; set from the open-file limit in services.ts. */
  admission: { admit(): number } = { admit: () => 0 };

  /** Agents on other server nodes (cluster only; unset in one process). */
  remote: RemoteAgents | undefined;

  /** Told when a socket is added or removed here (the cluster announces this node's agents). */
  onPresence: ((deviceId: string, connected: boolean) => void) | undefined;

  /**
   * Seconds an agent should wait before connecting here, 0 when it may: a node cut off from its
   * cluster sends its agents elsewhere (set by the cluster).
   */
  unavailableFor: () => number = () => 0;

  constructor(private readonly baseSettings: () => Omit<AgentSettings, "liveIntervalS">) {}

  /** Registers a connection, closing an older one for the same device. */
  add(c: AgentConnection): void {
    const old = this.connections.get(c.deviceId);
    if (old && old !== c) old.close(4000, "replaced by a newer connection");
    this.connections.set(c.deviceId, c);
    this.onPresence?.(c.deviceId, true);
  }

  /** Forgets a connection (if it is still the current one) and fails its pending calls. */
  remove(c: AgentConnection): boolean {
    if (this.connections.get(c.deviceId) !== c) return false;
    this.connections.delete(c.deviceId);
    this.onPresence?.(c.deviceId, false);
    const pending = this.calls.get(c.deviceId);
    this.calls.delete(c.deviceId);
    for (const p of pending?.values() ?? []) {
      clearTimeout(p.timer);
      p.resolve({ ok: false, code: "DISCONNECTED" });
    }
    return true;
  }

  /** The device's socket when this node holds it. */
  get(deviceId: string): AgentConnection | undefined {
    return this.connections.get(deviceId);
  }

  /** Whether the device's socket is held here or (in a cluster) by another node. */
  isConnected(deviceId: string): boolean {
    return this.connections.has(deviceId) || (this.remote?.holds(deviceId) ?? false);
  }

  /**
   * Sends a frame (its envelope added) to the device, here or through the node that holds it; false
   * when no node does.
   */
  send(deviceId: string, frame: Unenveloped<ServerFrame>): boolean {
    const c = this.connections.get(deviceId);
    if (c) {
      c.send(serverFrame(frame));
      return true;
    }
    return this.remote?.send(deviceId, serverFrame(frame)) ?? false;
  }

  /** The devices whose sockets this node holds. */
  connectedHere(): string[] {
    return [...this.connections.keys()];
  }

  get size(): number {
    return this.connections.size;
  }

  settingsFor(deviceId: string): AgentSettings {
    return {
      ...this.baseSettings(),
      liveIntervalS: this.liveDevices.has(deviceId) ? 2 : null,
      reconnectWindowS: this.reconnectWindowS(),
    };
  }

  /** Devices recently in contact with any node (set periodically from the database): the fleet that reconnects after a restart. */
  fleetSize = 0;

  /** Turns live mode (2 s sampling) on or off for a device and tells its agent when connected. */
  setLive(deviceId: string, on: boolean): void {
    if (on) this.liveDevices.add(deviceId);
    else this.liveDevices.delete(deviceId);
    this.send(deviceId, { type: "settings", data: this.settingsFor(deviceId) });
  }

  /**
   * Sends a call frame and waits for the agent's `result` frame with the same id, or the deadline.
   * `payload`: an upload chunk's bytes (a `files` write without `data`), sent raw in a binary message
   * to an agent that takes them, in base64 to one that does not (decided where the socket is held).
   */
  call(
    deviceId: string,
    frame: Omit<Extract<ServerFrame, { deadline: number }>, "v" | "id" | "deadline">,
    timeoutMs: number,
    payload?: Uint8Array,
  ): Promise<CallReply> {
    if (!this.connections.has(deviceId) && this.remote) {
      // the envelope's id is the remote node's to set (its own pending calls); the deadline travels
      return this.remote.call(
        deviceId,
        serverFrame({ ...frame, deadline: Date.now() + timeoutMs } as Unenveloped<ServerFrame>),
        timeoutMs,
        payload,
      );
    }
    return this.callHere(deviceId, frame, timeoutMs, payload);
  }

  /** `call` to an agent connected to this node only (`NOT_CONNECTED` otherwise): what a call from another node comes to. */
  callHere(
    deviceId: string,
    frame: Omit<Extract<ServerFrame, { deadline: number }>, "v" | "id" | "deadline">,
    timeoutMs: number,
    payload?: Uint8Array,
  ): Promise<CallReply> {
    const c = this.connections.get(deviceId);
    if (!c) return Promise.resolve({ ok: false, code: "NOT_CONNECTED" });
    const pending = this.calls.get(deviceId) ?? new Map<string, PendingCall>();
    this.calls.set(deviceId, pending);
    if (pending.size >= MAX_PENDING_CALLS) return Promise.resolve({ ok: false, code: "TOO_MANY_CALLS" });
    const id = crypto.randomUUID();
    const calls = pending;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        calls.delete(id);
        resolve({ ok: false, code: "DEADLINE_EXCEEDED" });
      }, timeoutMs);
      // the spread loses which call frame it is; it is one of them
      const f = serverFrame({ ...frame, id, deadline: Date.now() + timeoutMs } as Unenveloped<ServerFrame>);
      if (!payload) {
        calls.set(id, { resolve, timer });
        c.send(f);
        return;
      }
      let sent: number;
      try {
        const text = c.binaryChunks && c.sendBinary ? undefined : withBase64Payload(f, payload);
        const n = text ? c.send(text) : c.sendBinary?.(f, payload);
        sent = typeof n === "number" ? n : Math.ceil(payload.length / 3) * 4;
      } catch (err) {
        clearTimeout(timer);
        resolve({ ok: false, code: "BAD_CALL", message: String(err).slice(0, 300) });
        return;
      }
      // the answer is small: what the chunk took on the socket is what was sent
      calls.set(id, { resolve: (r) => resolve({ ...r, wireBytes: sent }), timer });
    });
  }

  /**
   * Delivers an agent's `result` frame to the call waiting for it; false when none waits. `payload`
   * and `wireBytes`: the bytes of a binary result and the size of its message.
   */
  settle(deviceId: string, id: string, result: CallResult, payload?: Uint8Array, wireBytes?: number): boolean {
    const p = this.calls.get(deviceId)?.get(id);
    if (!p) return false;
    clearTimeout(p.timer);
    this.calls.get(deviceId)?.delete(id);
    p.resolve(payload ? { ...result, payload, wireBytes } : result);
    return true;
  }

  /** Closes a device's socket and refuses a new one for `seconds` (the agent falls back to beacons). */
  disconnect(deviceId: string, seconds: number): boolean {
    const elsewhere = this.remote?.disconnect(deviceId, seconds) ?? false;
    return this.disconnectHere(deviceId, seconds) || elsewhere;
  }

  /** `disconnect` on this node only (the cluster applies another node's request with it). */
  disconnectHere(deviceId: string, seconds: number): boolean {
    if (this.holds.size >= MAX_HOLDS) this.pruneHolds();
    if (seconds > 0) this.holds.set(deviceId, Date.now() + seconds * 1000);
    const c = this.connections.get(deviceId);
    c?.close(4001, JSON.stringify({ retryAfterSeconds: seconds }));
    return Boolean(c);
  }

  /** Seconds left on a device's hold, 0 when it may connect. */
  heldFor(deviceId: string): number {
    const until = this.holds.get(deviceId);
    if (!until) return 0;
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) this.holds.delete(deviceId);
    return Math.max(0, left);
  }

  /**
   * Seconds over which agents cut off together should spread their reconnects: the fleet (this node's
   * sockets, or the devices recently in contact if more) at `RECONNECTS_PER_S`, within bounds. Told to
   * agents in their settings and again in the close frame when the server restarts.
   */
  reconnectWindowS(): number {
    const fleet = Math.max(this.connections.size, this.fleetSize);
    return Math.min(MAX_RECONNECT_WINDOW_S, Math.max(MIN_RECONNECT_WINDOW_S, Math.ceil(fleet / RECONNECTS_PER_S)));
  }

  /**
   * Seconds a restart of this node is expected to keep agents out (set at start: how long this start took,
   * plus the shutdown's grace), added to the window named at shutdown. Bounded by MAX_RESTART_ALLOWANCE_S.
   */
  get restartAllowanceS(): number {
    return this.allowanceS;
  }
  set restartAllowanceS(s: number) {
    this.allowanceS = Number.isFinite(s) ? Math.min(MAX_RESTART_ALLOWANCE_S, Math.max(0, Math.ceil(s))) : 0;
  }
  private allowanceS = 0;

  /** True once the node is shutting down: sockets close in bulk and `releaseNode` clears them. */
  closing = false;

  /**
   * Closes every agent socket with 1012 (service restart); the reason names the reconnect window
   * (`{"reconnectWindowS":n}`), so the fleet comes back spread over it rather than at once.
   * Not `shuttingDown`: the node stays up (cut off from its cluster) and its sockets close one by one.
   */
  closeAll(shuttingDown = true): void {
    if (shuttingDown) this.closing = true;
    // a restart: the agents' first tries land while the server is still down, so the window also covers
    // the time it will take to be back (what this start took); cut off from a cluster, the node stays up
    const windowS = this.reconnectWindowS() + (shuttingDown ? this.restartAllowanceS : 0);
    const reason = JSON.stringify({ reconnectWindowS: Math.min(MAX_RECONNECT_WINDOW_S, windowS) });
    for (const c of this.connections.values()) c.close(1012, reason);
  }

  private pruneHolds(): void {
    const now = Date.now();
    for (const [id, until] of this.holds) if (until <= now) this.holds.delete(id);
  }
}
