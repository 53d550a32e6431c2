import { createSignal, onCleanup } from "solid-js";
import { api, call } from "./api.ts";
import type { ScriptLanguage } from "../../../server/protocol/frames.ts";
import type { CommandStatus } from "../../../server/protocol/statuses.ts";
import { onLive, watchDevice } from "./live.ts";

export type { ScriptLanguage };
/** The languages in the order the forms offer them (a record, so a language the server adds fails `tsc` here). */
export const LANGUAGES = Object.keys({ bash: 1, sh: 1, powershell: 1, python: 1 } satisfies Record<ScriptLanguage, 1>) as ScriptLanguage[];
const IS_FINAL: Record<CommandStatus, boolean> = {
  queued: false,
  sent: false,
  running: false,
  succeeded: true,
  failed: true,
  timed_out: true,
  cancelled: true,
  expired: true,
};
/** The statuses a command ends in. */
export const FINAL: ReadonlySet<string> = new Set(Object.keys(IS_FINAL).filter((s) => IS_FINAL[s as CommandStatus]));

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
    if (e.type !== "command.updated" || e.data.commandId !== commandId) return;
    lastEvent = Date.now();
    const u = e.data;
    setView((v) => ({ status: u.status, exitCode: u.exitCode, stdout: v.stdout + u.stdout, stderr: v.stderr + u.stderr }));
    if (FINAL.has(u.status)) void poll();
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
