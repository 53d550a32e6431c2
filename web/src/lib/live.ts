import { createSignal } from "solid-js";
import type { LiveClientFrame, LiveFrame } from "../../../server/protocol/live.ts";
import { api, call } from "./api.ts";

/** A pushed event: a live frame other than the greeting and errors. */
export type LiveEvent = Exclude<LiveFrame, { type: "hello" | "error" }>;
/** A live chart point of a watched device. */
export type LiveTelemetryPoint = Extract<LiveFrame, { type: "device.telemetry" }>["data"]["point"];
export type LiveState = "idle" | "connecting" | "open" | "reconnecting";

type Handler = (event: LiveEvent) => void;

const handlers = new Set<Handler>();
const openHandlers = new Set<() => void>();
/** Watch reference counts per device: several views may watch one device. */
const watches = new Map<string, number>();
const [state, setState] = createSignal<LiveState>("idle");
let socket: WebSocket | null = null;
let wanted = false;
let attempt = 0;
/** Whether this run of the socket was open before: open handlers fire on re-opens only. */
let openedBefore = false;
let timer: ReturnType<typeof setTimeout> | undefined;

/** State of the one dashboard socket, for the connection indicator. */
export const liveState = state;

function send(type: "watch" | "unwatch", deviceId: string): void {
  const frame: LiveClientFrame = { v: 1, id: crypto.randomUUID(), type, data: { deviceId } };
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function connect(): void {
  clearTimeout(timer);
  const sock = new WebSocket(`${location.origin.replace(/^http/, "ws")}/api/v1/live`);
  socket = sock;
  setState(attempt === 0 ? "connecting" : "reconnecting");
  sock.onopen = () => {
    attempt = 0;
    setState("open");
    for (const deviceId of watches.keys()) send("watch", deviceId);
    if (openedBefore) for (const h of openHandlers) h();
    openedBefore = true;
  };
  sock.onmessage = (m) => {
    let frame: LiveFrame;
    try {
      // the server's own frames (server/protocol/live.ts); not re-validated in the browser
      frame = JSON.parse(String(m.data));
    } catch {
      return;
    }
    if (frame.type === "hello" || frame.type === "error") return;
    for (const h of handlers) h(frame);
  };
  sock.onclose = () => {
    if (socket !== sock) return;
    socket = null;
    if (!wanted) return;
    setState("reconnecting");
    // Jittered exponential backoff, 1 s doubling to 30 s; a 401 from the probe sends the user to login.
    const delay = Math.min(30_000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt++;
    timer = setTimeout(async () => {
      try {
        await call(api.api.v1.auth.me.get());
      } catch {}
      if (wanted) connect();
    }, delay);
  };
}

/** Opens the socket (after sign-in); reconnects by itself until `stopLive`. */
export function startLive(): void {
  if (wanted) return;
  wanted = true;
  attempt = 0;
  openedBefore = false;
  connect();
}

/** Closes the socket (sign-out). */
export function stopLive(): void {
  wanted = false;
  clearTimeout(timer);
  const s = socket;
  socket = null;
  s?.close();
  setState("idle");
}

/** Calls `handler` for every live event; returns the unsubscribe function (pass it to onCleanup). */
export function onLive(handler: Handler): () => void {
  handlers.add(handler);
  return () => handlers.delete(handler);
}

/** Calls `handler` each time the socket re-opens after a drop, so views can refetch what they missed. */
export function onLiveOpen(handler: () => void): () => void {
  openHandlers.add(handler);
  return () => openHandlers.delete(handler);
}

/** Asks for live telemetry of a device (its agent samples every 2 s while watched); returns the unwatch function. */
export function watchDevice(deviceId: string): () => void {
  const n = watches.get(deviceId) ?? 0;
  watches.set(deviceId, n + 1);
  if (n === 0) send("watch", deviceId);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const left = (watches.get(deviceId) ?? 1) - 1;
    if (left > 0) watches.set(deviceId, left);
    else {
      watches.delete(deviceId);
      send("unwatch", deviceId);
    }
  };
}
