import { createSignal, onCleanup } from "solid-js";
import { api, call } from "./api.ts";
import { onLive, watchDevice } from "./live.ts";

export type CommandStatus = "queued" | "sent" | "running" | "succeeded" | "failed" | "timed_out" | "cancelled" | "expired";
export type ScriptLanguage = "bash" | "sh" | "powershell" | "python";
export const LANGUAGES: ScriptLanguage[] = ["bash", "sh", "powershell", "python"];
export const FINAL: ReadonlySet<string> = new Set(["succeeded", "failed", "timed_out", "cancelled", "expired"]);

export interface CommandView {
  status: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** A pill class for a command status. */
export function statusClass(status: string): string {
  if (status === "succeeded") return "pill pill-ok";
  if (status === "running" || status === "sent") return "pill pill-live";
  if (FINAL.has(status)) return "pill pill-bad";
  return "pill";
}

/**
 * Follows one command: live `command.updated` chunks for its device (appended), and a GET every 2 s
 * while no event has arrived, which also catches what was missed before the watch began.
 */
export function followCommand(deviceId: string, commandId: string) {
  const [view, setView] = createSignal<CommandView>({ status: "queued", exitCode: null, stdout: "", stderr: "" });
  let lastEvent = 0;
  const unwatch = watchDevice(deviceId);
  const off = onLive((e) => {
    if (e.type !== "command.updated" || e.commandId !== commandId) return;
    lastEvent = Date.now();
    setView((v) => ({ status: e.status, exitCode: e.exitCode, stdout: v.stdout + e.stdout, stderr: v.stderr + e.stderr }));
    if (FINAL.has(e.status)) void poll();
  });
  const poll = async () => {
    try {
      const c = await call(api.api.v1.commands({ id: commandId }).get());
      setView({ status: c.status, exitCode: c.exitCode, stdout: c.stdout ?? "", stderr: c.stderr ?? "" });
      if (FINAL.has(c.status)) stop();
    } catch {}
  };
  const timer = setInterval(() => {
    if (Date.now() - lastEvent > 2000) void poll();
  }, 2000);
  const stop = () => {
    clearInterval(timer);
    off();
    unwatch();
  };
  onCleanup(stop);
  return view;
}
