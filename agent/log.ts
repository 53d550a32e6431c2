/** One JSON line per event on stderr (journald, Windows service logs and launchd keep it). Never secrets. */
export function agentLog(level: "debug" | "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  if (level === "debug" && !process.env.SENTPULSE_AGENT_DEBUG) return;
  process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields })}\n`);
}
