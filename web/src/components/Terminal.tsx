import { FitAddon } from "@xterm/addon-fit";
import { Terminal as XTerm } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { Show, createSignal, onCleanup, onMount } from "solid-js";
import type { TerminalClientFrame, TerminalServerFrame } from "../../../server/protocol/terminal.ts";
import "./Terminal.css";

type TermState = "connecting" | "open" | "ended" | "error";
const LABEL: Record<TermState, string> = { connecting: "Connecting…", open: "Connected", ended: "Session ended", error: "Error" };

/** Colours follow the dashboard's code block, readable in both themes. */
export const TERMINAL_THEME = { background: "#0f1720", foreground: "#e6edf3", cursor: "#35cfc0", selectionBackground: "#35505a" };

/** A live shell on a device over `/api/v1/devices/:id/terminal` (xterm.js with the fit add-on). */
export function Terminal(props: { deviceId: string }) {
  let host: HTMLElement | undefined;
  const [state, setState] = createSignal<TermState>("connecting");
  const [detail, setDetail] = createSignal("");
  let term: XTerm | undefined;
  let fit: FitAddon | undefined;
  let sock: WebSocket | null = null;

  const send = (frame: TerminalClientFrame) => {
    if (sock?.readyState === WebSocket.OPEN) sock.send(JSON.stringify(frame));
  };

  const connect = () => {
    if (!term) return;
    sock?.close();
    term.reset();
    setState("connecting");
    setDetail("");
    const url = `${location.origin.replace(/^http/, "ws")}/api/v1/devices/${encodeURIComponent(props.deviceId)}/terminal?cols=${term.cols}&rows=${term.rows}`;
    const s = new WebSocket(url);
    sock = s;
    s.onopen = () => {
      if (sock !== s) return;
      setState("open");
      term?.focus();
    };
    s.onmessage = (m) => {
      if (sock !== s) return;
      let f: TerminalServerFrame;
      try {
        f = JSON.parse(String(m.data));
      } catch {
        return;
      }
      if (f.type === "output") term?.write(f.data);
      else if (f.type === "exit") {
        setState("ended");
        setDetail(`exit code ${f.code ?? "?"}`);
      } else if (f.type === "error") {
        setState("error");
        setDetail(f.message ?? "the terminal failed");
      }
    };
    s.onclose = (e) => {
      if (sock !== s) return;
      sock = null;
      if (state() === "open" || state() === "connecting") {
        setState(state() === "connecting" ? "error" : "ended");
        if (!detail()) setDetail(e.reason || (state() === "error" ? "could not connect (is the device online?)" : "connection closed"));
      }
    };
  };

  onMount(() => {
    if (!host) return;
    term = new XTerm({
      cursorBlink: true,
      convertEol: false,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
      fontSize: 14,
      scrollback: 5000,
      theme: TERMINAL_THEME,
    });
    fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host);
    fit.fit();
    term.onData((data) => send({ type: "input", data }));
    term.onResize(({ cols, rows }) => send({ type: "resize", cols, rows }));
    const ro = new ResizeObserver(() => {
      try {
        fit?.fit();
      } catch {}
    });
    ro.observe(host);
    connect();
    onCleanup(() => {
      ro.disconnect();
      const s = sock;
      sock = null;
      s?.close();
      term?.dispose();
    });
  });

  return (
    <div class="terminal-panel">
      <div class="terminal-bar">
        <span class="terminal-status" data-testid="terminal-status" data-state={state()} role="status">
          {LABEL[state()]}
          <Show when={detail()}>: {detail()}</Show>
        </span>
        <Show when={state() === "ended" || state() === "error"}>
          <button type="button" class="btn btn-sm btn-primary" data-testid="terminal-reconnect" onClick={connect}>
            Reconnect
          </button>
        </Show>
      </div>
      <section class="terminal-host" data-testid="terminal" ref={host} aria-label="Remote terminal" />
    </div>
  );
}
