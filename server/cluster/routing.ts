import { type } from "arktype";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { AgentHub, CallReply, RemoteAgents } from "../agents/hub.ts";
import type { LiveHub } from "../live/hub.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import type { LiveEvent } from "../protocol/live.ts";
import type { TerminalHub, TerminalRelay } from "../terminal/sessions.ts";
import type { Presence } from "./presence.ts";
import type { Wire } from "./wire.ts";

const Uuid = /^[0-9a-f-]{36}$/i;
const SendMsg = type({ d: Uuid, f: { type: "string", "data?": "unknown" } });
const CallMsg = type({ d: Uuid, f: { type: "string", deadline: "number", "data?": "unknown" } });
const DisconnectMsg = type({ d: Uuid, s: "0 <= number.integer <= 86400" });
const LiveMsg = type({ org: Uuid, ev: { type: "string" } });
const GoneMsg = type({ d: Uuid });
const TermMsg = type({
  kind: "'output' | 'exit'",
  deviceId: Uuid,
  sessionId: Uuid,
  "data?": "string",
  "code?": "number | null",
  "error?": "string",
});
/** What a call's answer must look like to be handed to the caller (`w`: the bytes its chunk took on the agent's socket). */
const CallAnswer = type({ ok: "true", "data?": "unknown", "w?": "number" }).or({ ok: "false", code: "string", "message?": "string" });

/**
 * Routing between nodes: frames and calls for an agent go to the node holding its socket
 * (`node.<id>.send`, `node.<id>.call`, a request answered with the agent's result; a file chunk's
 * bytes travel raw both ways, and the holding node sends them to its agent raw or in base64 as the
 * agent takes them); dashboard live
 * events go to every node (`live`; a watched device's telemetry and command output only when a
 * dashboard elsewhere watches it); a terminal's output goes to the node whose browser opened the
 * session (`term.<sessionId>`, listened to only there).
 */
export class Routing implements RemoteAgents {
  private readonly sessions = new Map<string, Subscription>();
  private nc: NatsConnection | undefined;

  constructor(
    private readonly wire: Wire,
    private readonly presence: Presence,
    private readonly d: { agents: AgentHub; live: LiveHub; terminals: TerminalHub },
  ) {}

  listen(nc: NatsConnection): void {
    this.nc = nc;
    const { agents, live, terminals } = this.d;
    const me = this.wire.nodeId;
    this.wire.listen(nc, `node.${me}.send`, "send", (m) => {
      const body = SendMsg(m.body);
      if (body instanceof type.errors) return void this.wire.stats.dropped++;
      agents.get(body.d)?.send(body.f as ServerFrame);
    });
    this.wire.listen(nc, `node.${me}.call`, "call", (m) => {
      const body = CallMsg(m.body);
      if (body instanceof type.errors) {
        this.wire.stats.dropped++;
        return m.respond?.({ ok: false, code: "BAD_CALL" });
      }
      const { v: _v, id: _id, deadline, ...frame } = body.f as ServerFrame & { deadline: number };
      void agents
        .callHere(body.d, frame as Parameters<AgentHub["callHere"]>[1], Math.max(1, deadline - Date.now()), m.payload)
        .then(({ payload, wireBytes, ...r }) => m.respond?.(wireBytes === undefined ? r : { ...r, w: wireBytes }, payload));
    });
    this.wire.listen(nc, "disconnect", "disconnect", (m) => {
      const body = DisconnectMsg(m.body);
      if (body instanceof type.errors) return void this.wire.stats.dropped++;
      agents.disconnectHere(body.d, body.s);
    });
    this.wire.listen(nc, "live", "live", (m) => {
      const body = LiveMsg(m.body);
      if (body instanceof type.errors) return void this.wire.stats.dropped++;
      live.deliver(body.org, body.ev as LiveEvent);
    });
    this.wire.listen(nc, "term.gone", "terminal", (m) => {
      const body = GoneMsg(m.body);
      if (body instanceof type.errors) return void this.wire.stats.dropped++;
      terminals.agentGone(body.d, true);
    });
  }

  holds(deviceId: string): boolean {
    return this.presence.nodeOf(deviceId) !== undefined;
  }

  send(deviceId: string, frame: ServerFrame): boolean {
    const node = this.presence.nodeOf(deviceId);
    if (!node) return false;
    this.wire.publish(`node.${node}.send`, "send", { d: deviceId, f: frame });
    return true;
  }

  async call(deviceId: string, frame: ServerFrame, timeoutMs: number, payload?: Uint8Array): Promise<CallReply> {
    const node = this.presence.nodeOf(deviceId);
    if (!node) return { ok: false, code: "NOT_CONNECTED" };
    try {
      // a little longer than the agent's deadline: the holding node answers DEADLINE_EXCEEDED itself
      const reply = await this.wire.request(`node.${node}.call`, "call", { d: deviceId, f: frame }, timeoutMs + 1000, payload);
      const answer = CallAnswer(reply.body);
      if (answer instanceof type.errors) return { ok: false, code: "BAD_ANSWER" };
      if (!answer.ok) return answer;
      const { w, ...result } = answer;
      return { ...result, ...(reply.payload ? { payload: reply.payload } : {}), ...(w === undefined ? {} : { wireBytes: w }) };
    } catch (err) {
      this.wire.stats.callsFailed++;
      // no responder: the node is gone (its agent is reconnecting); otherwise the bus was too slow
      return { ok: false, code: String((err as Error).message).includes("no responders") ? "NOT_CONNECTED" : "DEADLINE_EXCEEDED" };
    }
  }

  disconnect(deviceId: string, seconds: number): boolean {
    this.wire.publish("disconnect", "disconnect", { d: deviceId, s: seconds });
    return this.holds(deviceId);
  }

  /** LiveHub's relay: every node's dashboards (a device's telemetry and command output only where it is watched). */
  relayLive(organizationId: string, event: LiveEvent): void {
    if ((event.type === "device.telemetry" || event.type === "command.updated") && !this.presence.watchedElsewhere(event.deviceId)) return;
    this.wire.publish("live", "live", { org: organizationId, ev: event });
  }

  /** TerminalHub's cluster hooks. */
  readonly terminal = {
    sessionOpened: (id: string) => {
      if (!this.nc) return;
      this.sessions.set(
        id,
        this.wire.listen(this.nc, `term.${id}`, "terminal", (m) => {
          const r = TermMsg(m.body);
          if (r instanceof type.errors) return void this.wire.stats.dropped++;
          if (r.kind === "output") this.d.terminals.output(r.deviceId, r.sessionId, r.data ?? "", true);
          else this.d.terminals.exited(r.deviceId, r.sessionId, r.code ?? null, r.error, true);
        }),
      );
    },
    sessionEnded: (id: string) => {
      this.sessions.get(id)?.unsubscribe();
      this.sessions.delete(id);
    },
    relay: (r: TerminalRelay) => {
      if (r.kind === "gone") this.wire.publish("term.gone", "terminal", { d: r.deviceId });
      else this.wire.publish(`term.${r.sessionId}`, "terminal", r);
    },
  };
}
