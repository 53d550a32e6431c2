import { Terminal as XTerm } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { createSignal, onCleanup, onMount } from "solid-js";
import { TERMINAL_THEME } from "./Terminal.tsx";
import "./Terminal.css";

/** Plays an asciicast v2 recording's output events into a read-only terminal, at their timestamps (capped gaps). */
export default function TerminalReplay(props: { sessionId: string }) {
  let host: HTMLElement | undefined;
  const [state, setState] = createSignal("Loading…");
  const timers: ReturnType<typeof setTimeout>[] = [];
  let term: XTerm | undefined;
  let events: [number, string][] = [];

  const play = (instant: boolean) => {
    for (const t of timers) clearTimeout(t);
    timers.length = 0;
    term?.reset();
    if (instant) {
      for (const [, d] of events) term?.write(d);
      setState("Replayed");
      return;
    }
    setState("Playing…");
    let at = 0;
    let prev = 0;
    for (const [t, d] of events) {
      at += Math.min(2, Math.max(0, t - prev));
      prev = t;
      timers.push(setTimeout(() => term?.write(d), at * 1000));
    }
    timers.push(setTimeout(() => setState("Replayed"), at * 1000 + 10));
  };

  onMount(async () => {
    if (!host) return;
    term = new XTerm({ disableStdin: true, convertEol: false, fontSize: 13, theme: TERMINAL_THEME, cursorBlink: false });
    term.open(host);
    onCleanup(() => {
      for (const t of timers) clearTimeout(t);
      term?.dispose();
    });
    try {
      const res = await fetch(`/api/v1/terminal-sessions/${encodeURIComponent(props.sessionId)}/recording`, { credentials: "include" });
      if (!res.ok) throw new Error(`the recording could not be loaded (${res.status})`);
      const lines = (await res.text()).split("\n");
      const header = JSON.parse(lines[0] ?? "{}") as { width?: number; height?: number };
      if (header.width && header.height) term.resize(header.width, header.height);
      events = [];
      for (const line of lines.slice(1)) {
        if (!line.trim()) continue;
        try {
          const [t, kind, data] = JSON.parse(line) as [number, string, string];
          if (kind === "o") events.push([t, data]);
        } catch {}
      }
      play(false);
    } catch (e) {
      setState(e instanceof Error ? e.message : "the recording could not be loaded");
    }
  });

  return (
    <div class="terminal-panel">
      <div class="terminal-bar">
        <span class="terminal-status" role="status">
          {state()}
        </span>
        <span>
          <button type="button" class="btn btn-sm" onClick={() => play(false)}>
            Play again
          </button>{" "}
          <button type="button" class="btn btn-sm" onClick={() => play(true)}>
            Show all
          </button>
        </span>
      </div>
      <section class="terminal-host replay" data-testid="terminal-replay" ref={host} aria-label="Terminal recording" />
    </div>
  );
}
