import type { EventEntry, EventLevel, EventLogList, LogLevel } from "../../server/protocol/toolbox.ts";
import { MAX_MESSAGE_CHARS } from "../../server/protocol/toolbox-limits.ts";
import { firstLine, run } from "../toolbox/run.ts";
import { type EventQuery, ToolboxError } from "../toolbox/types.ts";

/** journalctl's priority range for a least severe level (syslog: 0 emerg … 3 err, 4 warning, 6 info). */
const PRIORITY: Record<LogLevel, string> = { error: "0..3", warning: "0..4", info: "0..6" };

/** Escapes regular-expression characters so `--grep` matches the text literally. */
export function literalPattern(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/**
 * journalctl argv for a query: newest first, JSON, one more entry than asked (to know whether
 * older ones remain). Every value is its own argument; the search text is matched literally and
 * without case. With systemd as init a unit filter is `--unit`; without it (init scripts, logger)
 * it is the syslog identifier.
 */
export function journalArgv(q: EventQuery, systemd: boolean): string[] {
  const argv = ["journalctl", "--no-pager", "--output=json", "--reverse", `--lines=${q.limit + 1}`, `--priority=${PRIORITY[q.level]}`];
  if (q.since !== undefined) argv.push(`--since=@${Math.floor(q.since / 1000)}`);
  if (q.until !== undefined) argv.push(`--until=@${Math.floor(q.until / 1000)}`);
  if (q.unit) argv.push(systemd ? `--unit=${q.unit}` : `--identifier=${q.unit}`);
  if (q.q) argv.push(`--grep=${literalPattern(q.q)}`, "--case-sensitive=false");
  return argv;
}

function level(priority: number): EventLevel {
  if (priority <= 2) return "critical";
  if (priority === 3) return "error";
  if (priority === 4) return "warning";
  if (priority <= 6) return "info";
  return "debug";
}

/** A journal field's text: a string, or an array of bytes for a message that is not valid UTF-8. */
function text(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return Buffer.from(v.filter((b) => typeof b === "number")).toString("utf8");
  return "";
}

/** Parses `journalctl --output=json` (one object per line) into events, at most `limit` of them. */
export function parseJournal(output: string, limit: number): EventLogList {
  const items: EventEntry[] = [];
  let lines = 0;
  for (const line of output.split("\n")) {
    if (!line.trim()) continue;
    lines++;
    if (items.length >= limit) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line);
    } catch {
      continue; // a line cut by the output bound
    }
    const pid = Number(text(e._PID));
    items.push({
      time: Math.floor(Number(text(e.__REALTIME_TIMESTAMP)) / 1000),
      level: level(Number(text(e.PRIORITY) || 6)),
      source: (text(e.SYSLOG_IDENTIFIER) || text(e._SYSTEMD_UNIT) || text(e._COMM) || "journal").slice(0, 256),
      message: text(e.MESSAGE).slice(0, MAX_MESSAGE_CHARS),
      ...(Number.isInteger(pid) && pid > 0 ? { pid } : {}),
    });
  }
  return { source: "journal", items, more: lines > limit };
}

/** Reads the journal; exit 1 with "-- No entries --" or no match is an empty answer, not an error. */
export async function readJournal(q: EventQuery, systemd: boolean): Promise<EventLogList> {
  if (!Bun.which("journalctl")) throw new ToolboxError("UNSUPPORTED", "journalctl is not installed on this device");
  const r = await run(journalArgv(q, systemd), { timeoutMs: 20_000, maxBytes: 8 * 1024 * 1024 });
  if (r.exitCode !== 0 && !r.truncated && r.stdout.trim() === "") {
    if (r.exitCode === 1 && !/invalid|unknown|failed to/i.test(r.stderr)) return { source: "journal", items: [], more: false };
    throw new ToolboxError("COMMAND_FAILED", `journalctl failed: ${firstLine(r.stderr)}`);
  }
  return parseJournal(r.stdout, q.limit);
}
