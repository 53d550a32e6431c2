import { treaty } from "@elysiajs/eden";
import type { App } from "../../server/app.ts";
import { PROTOCOL_VERSION } from "../../server/protocol/constants.ts";
import type {
  AgentFrame,
  ServerFrame,
  AgentSettings,
  CallResult,
  CommandSpec,
  CommandUpdate,
  TelemetryBatch,
  ToolboxRequest,
  Unenveloped,
} from "../../server/protocol/frames.ts";
import { decodeBinaryFrame, encodeBinaryFrame } from "../../server/protocol/binary.ts";
import { newEnvelope } from "../../server/protocol/envelope.ts";
import { signBody, signingKey, socketChallenge } from "../../server/protocol/signing.ts";
import type { DeviceFacts, TelemetrySample } from "../../server/protocol/telemetry.ts";
import type { PatchRequest } from "../../server/protocol/patch.ts";
import type { FilesRequest } from "../../server/protocol/files.ts";
import { type AgentConfig, saveAgentConfig } from "../config.ts";
import { agentLog } from "../log.ts";
import type { Collector } from "../platform/types.ts";
import { parseServerFrame } from "../wire.ts";
import { backoffMs, reconnectDelayMs, refusalHoldMs } from "./backoff.ts";
import { BeaconError, sendBeacon } from "./beacon.ts";
import type { Spool } from "./spool.ts";

/** Batches sent over the socket and not yet acknowledged, at most. */
const SEND_WINDOW = 16;
/** Batches per beacon, at most. */
const BEACON_BATCHES = 20;
/** Reconnect window until a server names one (servers before `reconnectWindowS`): 10,000 agents at 1,000/s. */
const DEFAULT_RECONNECT_WINDOW_S = 10;
/** Frames of the pulse itself; every other one is a technician's doing (see `onActivity`). */
const QUIET_FRAMES = new Set<string>(["welcome", "ack", "settings", "error"]);
/**
 * `SENTPULSE_AGENT_TEXT_FRAMES=1`: file chunks travel base64 in text frames, as agents before binary
 * chunks sent them (for a proxy or inspection device that mangles binary WebSocket messages).
 */
const TEXT_FRAMES_ONLY = process.env.SENTPULSE_AGENT_TEXT_FRAMES === "1";
const DEFAULT_SETTINGS: AgentSettings = { telemetryIntervalS: 30, beaconIntervalS: 60, liveIntervalS: null };

export interface PulseOptions {
  configPath: string;
  config: AgentConfig;
  collector: Collector;
  spool: Spool;
  agentVersion: string;
  /** Host facts for the hello frame. */
  facts: () => Promise<DeviceFacts>;
  /** Runs commands from the server; set once the pulse exists (it sends the updates). */
  executor?: { receive(commandId: string, spec: CommandSpec, deadline?: number): void; flushUnreported(): void };
  /** Terminal sessions; their output goes out through `sendTerminal`. */
  terminals?: {
    open(sessionId: string, cols: number, rows: number): Promise<void>;
    input(sessionId: string, data: string): void;
    resize(sessionId: string, cols: number, rows: number): void;
    close(sessionId: string): void;
    closeAll(): void;
  };
  /** Told of every frame a technician's action sent (anything but welcome, ack, settings and errors). */
  onActivity?: () => void;
  /** Answers a `toolbox` call (processes, services, event logs, environment); loaded on first use. */
  toolbox?: (req: ToolboxRequest) => Promise<CallResult>;
  /** Answers a `patch` call (a software and update scan); loaded on first use. */
  patch?: (req: PatchRequest) => Promise<CallResult>;
  /**
   * Answers a `files` call (the file explorer and its transfers); loaded on first use. `payload`: an
   * upload chunk's bytes from a binary message; a download chunk's come back as the answer's `payload`.
   */
  files?: (req: FilesRequest, payload?: Uint8Array) => Promise<CallResult & { payload?: Uint8Array }>;
}

/**
 * The agent's pulse: one socket to the server (hello, telemetry, acks, settings, calls), signed
 * HTTP beacons while the socket is down, jittered reconnects, and a spool so no sample is lost.
 */
export class Pulse {
  private settings: AgentSettings = DEFAULT_SETTINGS;
  private ws: WebSocket | undefined;
  private connected = false;
  private stopped = false;
  private attempt = 0;
  private holdUntil = 0;
  /** Seconds to spread a reconnect over after a lost socket; the server names it when it restarts. */
  private reconnectWindowS = DEFAULT_RECONNECT_WINDOW_S;
  private lastSentSeq = 0;
  private inFlight = 0;
  private sampleTimer: ReturnType<typeof setTimeout> | undefined;
  private beaconTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private collecting = false;
  /** Server clock minus ours, ms, from the last welcome (command deadlines are server time). */
  private clockOffsetMs = 0;
  /** The server's welcome said it takes download chunks as binary messages (older servers: base64). */
  private serverBinary = false;

  constructor(private readonly o: PulseOptions) {}

  start(): void {
    this.connect();
    this.scheduleSample(1000);
    this.scheduleBeacon(this.settings.beaconIntervalS * 1000);
  }

  /** Stops timers, closes the socket and writes every undelivered batch to disk. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.sampleTimer);
    clearTimeout(this.beaconTimer);
    clearTimeout(this.reconnectTimer);
    this.ws?.close(1000, "agent stopping");
    this.o.spool.persistAll();
  }

  private connect(): void {
    if (this.stopped) return;
    const { server, deviceId, secret } = this.o.config;
    const ts = Date.now();
    const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
    const sig = signBody(signingKey(secret), ts, socketChallenge(deviceId, nonce));
    const client = treaty<App>(server);
    const ws = client.api.agent.v1.ws.subscribe({ query: { device: deviceId, ts, nonce, sig, v: String(PROTOCOL_VERSION) } }).ws;
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.addEventListener("message", (e) =>
      typeof e.data === "string" ? this.onMessage(e.data) : this.onBinary(new Uint8Array(e.data as ArrayBuffer)),
    );
    ws.addEventListener("close", (e) => this.onClose(e.code, e.reason));
    // a close event always follows; a 503 refusal (server full) holds the next attempt back
    ws.addEventListener("error", (e) => {
      const hold = refusalHoldMs(String((e as ErrorEvent).message ?? ""));
      if (hold > 0) this.holdUntil = Math.max(this.holdUntil, Date.now() + hold);
    });
  }

  /**
   * A binary message: an upload chunk (a `files` write, its bytes raw; protocol/binary.ts). Anything
   * else, or a message that does not decode, is refused like a bad text frame (answered BAD_FRAME
   * when it is a call), and nothing is written.
   */
  private onBinary(message: Uint8Array): void {
    const decoded = decodeBinaryFrame(message);
    if ("problem" in decoded) {
      this.badBinary(undefined, decoded.problem);
      return;
    }
    const parsed = parseServerFrame(decoded.frame);
    if ("problem" in parsed) {
      this.badBinary(decoded.frame, parsed.problem);
      return;
    }
    const { frame } = parsed;
    if (frame.type !== "files" || frame.data.op !== "write" || frame.data.data !== undefined) {
      this.badBinary(decoded.frame, `a ${frame.type} frame carries no binary payload`);
      return;
    }
    this.o.onActivity?.();
    this.onFiles(frame, decoded.payload);
  }

  private badBinary(raw: unknown, problem: string): void {
    agentLog("warn", "bad binary message from server", { problem: problem.slice(0, 200) });
    this.refuse(raw, problem);
  }

  /** A call (it has an id and a deadline) the agent refuses is answered at once instead of left to its deadline. */
  private refuse(raw: unknown, problem: string): void {
    const call = raw as { id?: unknown; deadline?: unknown } | null | undefined;
    if (typeof call?.id === "string" && call.id.length > 0 && call.id.length <= 64 && typeof call.deadline === "number")
      this.reply(call.id, { ok: false, code: "BAD_FRAME", message: `refused by the agent: ${problem.slice(0, 300)}` });
  }

  private onFiles(frame: Extract<ServerFrame, { type: "files" }>, payload?: Uint8Array): void {
    const { id } = frame;
    if (!this.o.files || this.serverNow() > frame.deadline) {
      this.reply(id, { ok: false, code: this.o.files ? "DEADLINE_EXCEEDED" : "UNSUPPORTED" });
      return;
    }
    void this.o.files(frame.data, payload).then((r) => this.reply(id, r));
  }

  private onMessage(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = parseServerFrame(raw);
    if ("problem" in parsed) {
      agentLog("warn", "unknown frame from server", { problem: parsed.problem.slice(0, 200) });
      this.refuse(raw, parsed.problem);
      return;
    }
    const { frame } = parsed;
    if (!QUIET_FRAMES.has(frame.type)) this.o.onActivity?.();
    switch (frame.type) {
      case "welcome":
        this.connected = true;
        this.clockOffsetMs = Date.parse(frame.data.serverTime) - Date.now() || 0;
        this.serverBinary = frame.data.binaryChunks === true && !TEXT_FRAMES_ONLY;
        this.attempt = 0;
        this.o.spool.raiseSeqAbove(frame.data.ackedSeq);
        this.o.spool.ack(frame.data.ackedSeq);
        this.lastSentSeq = frame.data.ackedSeq;
        this.inFlight = 0;
        this.applySettings(frame.data.settings);
        clearTimeout(this.beaconTimer);
        agentLog("info", "connected", { server: this.o.config.server, spooled: this.o.spool.size });
        void this.o.facts().then((facts) => {
          this.send({ type: "hello", data: { agentVersion: this.o.agentVersion, facts, binaryChunks: !TEXT_FRAMES_ONLY } });
          this.o.executor?.flushUnreported();
        });
        this.scheduleSample(0);
        this.pump();
        break;
      case "ack":
        this.inFlight = Math.max(0, this.inFlight - 1);
        this.o.spool.ack(frame.data.seq);
        this.pump();
        break;
      case "settings":
        this.applySettings(frame.data);
        this.scheduleSample(0);
        break;
      case "rotate_secret":
        this.reply(frame.id, this.rotate(frame.data.secret));
        break;
      case "error":
        agentLog("warn", "server reported an error", { code: frame.data.code });
        break;
      case "command":
        this.o.executor?.receive(frame.data.commandId, frame.data.spec, frame.data.deadline);
        break;
      case "terminal_open":
        void this.o.terminals?.open(frame.data.sessionId, frame.data.cols, frame.data.rows);
        break;
      case "terminal_input":
        this.o.terminals?.input(frame.data.sessionId, frame.data.data);
        break;
      case "terminal_resize":
        this.o.terminals?.resize(frame.data.sessionId, frame.data.cols, frame.data.rows);
        break;
      case "terminal_close":
        this.o.terminals?.close(frame.data.sessionId);
        break;
      case "toolbox": {
        const { id } = frame;
        if (!this.o.toolbox || this.serverNow() > frame.deadline) {
          this.reply(id, { ok: false, code: this.o.toolbox ? "DEADLINE_EXCEEDED" : "UNSUPPORTED" });
          break;
        }
        void this.o.toolbox(frame.data).then((r) => this.reply(id, r));
        break;
      }
      case "patch": {
        const { id } = frame;
        if (!this.o.patch || this.serverNow() > frame.deadline) {
          this.reply(id, { ok: false, code: this.o.patch ? "DEADLINE_EXCEEDED" : "UNSUPPORTED" });
          break;
        }
        void this.o.patch(frame.data).then((r) => this.reply(id, r));
        break;
      }
      case "files":
        this.onFiles(frame);
        break;
    }
  }

  private onClose(code: number, reason: string): void {
    const wasConnected = this.connected;
    this.o.terminals?.closeAll();
    this.connected = false;
    this.serverBinary = false;
    this.ws = undefined;
    this.lastSentSeq = 0;
    this.o.spool.persistAll();
    if (this.stopped) return;
    if (code === 4001) {
      try {
        const retry = Number(JSON.parse(reason).retryAfterSeconds) || 0;
        this.holdUntil = Date.now() + retry * 1000;
      } catch {}
    }
    if (code === 1012) {
      // the server is restarting and names the window its fleet should spread its reconnects over
      try {
        this.reconnectWindowS = Number(JSON.parse(reason).reconnectWindowS) || this.reconnectWindowS;
      } catch {}
    }
    if (wasConnected) agentLog("warn", "socket closed; using beacons", { code });
    // the first attempt after a lost socket lands anywhere in the window; failed ones back off, at first
    // again over the window (a restarting server that is not back yet is not met by all of them at once)
    const delay = wasConnected
      ? reconnectDelayMs(this.reconnectWindowS)
      : backoffMs(this.attempt++, undefined, undefined, undefined, this.reconnectWindowS);
    const wait = Math.max(delay, this.holdUntil - Date.now());
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
    if (wasConnected) this.scheduleBeacon(Math.min(5000, this.settings.beaconIntervalS * 1000));
  }

  /** Sends a command's progress or outcome; false when the socket is down (the executor keeps it). */
  sendCommandUpdate(u: CommandUpdate): boolean {
    if (!this.connected || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.send({ type: "command_update", data: u });
    return true;
  }

  /** Sends terminal output or exit; dropped when the socket is down (its sessions end with it). */
  sendTerminal(frame: Unenveloped<Extract<AgentFrame, { type: "terminal_output" | "terminal_exit" }>>): void {
    if (this.connected) this.send(frame);
  }

  /** The server's clock, epoch ms (ours corrected by the offset seen at the last welcome). */
  serverNow(): number {
    return Date.now() + this.clockOffsetMs;
  }

  private send(frame: Unenveloped<AgentFrame>): void {
    // the envelope from envelope.ts: a value imported from frames.ts would evaluate every arktype
    // schema of the protocol in the agent (~75 MB of RSS, docs/benchmarks.md)
    this.ws?.send(JSON.stringify({ ...frame, ...newEnvelope(), ...(frame.id ? { id: frame.id } : {}) }));
  }

  /**
   * Answers a call. A download chunk's bytes (`payload`) go raw in a binary message to a server that
   * takes them, else in base64 as the result's `data.data`, as before binary chunks.
   */
  private reply(id: string, answer: CallResult & { payload?: Uint8Array }): void {
    const { payload, ...result } = answer;
    if (!payload || !result.ok) this.send({ id, type: "result", data: result });
    else if (this.serverBinary) this.ws?.send(encodeBinaryFrame({ id, v: PROTOCOL_VERSION, type: "result", data: result }, payload));
    else {
      const base64 = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("base64");
      this.send({ id, type: "result", data: { ok: true, data: { ...(result.data as object), data: base64 } } });
    }
  }

  /** Sends pending batches in order, keeping at most SEND_WINDOW unacknowledged. */
  private pump(): void {
    if (!this.connected) return;
    const room = SEND_WINDOW - this.inFlight;
    if (room <= 0) return;
    for (const batch of this.o.spool.peek(room, this.lastSentSeq)) {
      this.send({ type: "telemetry", data: batch });
      this.lastSentSeq = batch.seq;
      this.inFlight++;
    }
  }

  private rotate(secret: string): CallResult {
    try {
      this.o.config.secret = secret;
      saveAgentConfig(this.o.configPath, this.o.config);
      agentLog("info", "device secret rotated");
      return { ok: true };
    } catch (err) {
      agentLog("error", "could not persist the new secret", { error: String(err) });
      return { ok: false, code: "PERSIST_FAILED" };
    }
  }

  private applySettings(s: AgentSettings): void {
    this.settings = s;
    if (s.reconnectWindowS) this.reconnectWindowS = s.reconnectWindowS;
  }

  private intervalMs(): number {
    const live = this.connected ? this.settings.liveIntervalS : null;
    return (live ?? this.settings.telemetryIntervalS) * 1000;
  }

  private scheduleSample(delayMs: number): void {
    clearTimeout(this.sampleTimer);
    if (this.stopped) return;
    this.sampleTimer = setTimeout(() => void this.sample(), delayMs);
  }

  private async sample(): Promise<void> {
    this.scheduleSample(this.intervalMs());
    if (this.collecting) return;
    this.collecting = true;
    let sample: TelemetrySample;
    try {
      sample = await this.o.collector.collect();
    } catch (err) {
      agentLog("error", "collection failed", { error: String(err) });
      return;
    } finally {
      this.collecting = false;
    }
    const batch: TelemetryBatch = { seq: this.o.spool.takeSeq(), samples: [sample] };
    this.o.spool.push(batch, !this.connected);
    this.pump();
  }

  private scheduleBeacon(delayMs: number): void {
    clearTimeout(this.beaconTimer);
    if (this.stopped || this.connected) return;
    this.beaconTimer = setTimeout(() => void this.beacon(), delayMs);
  }

  private async beacon(): Promise<void> {
    if (this.connected || this.stopped) return;
    const { server, deviceId } = this.o.config;
    try {
      const res = await sendBeacon(server, deviceId, this.o.config.secret, this.o.agentVersion, this.o.spool.peek(BEACON_BATCHES));
      this.o.spool.raiseSeqAbove(res.ackedSeq);
      this.o.spool.ack(res.ackedSeq);
      this.applySettings(res.settings);
      if (res.rotateSecret) this.rotate(res.rotateSecret.secret);
      if (res.commands?.length) this.o.onActivity?.();
      for (const c of res.commands ?? []) this.o.executor?.receive(c.commandId, c.spec, c.deadline);
      agentLog("debug", "beacon delivered", { ackedSeq: res.ackedSeq, spooled: this.o.spool.size });
    } catch (err) {
      agentLog("warn", "beacon failed", { error: err instanceof BeaconError ? err.code : String(err) });
    }
    this.scheduleBeacon(this.settings.beaconIntervalS * 1000);
  }
}
