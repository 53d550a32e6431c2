import type { EventEntry, EventLevel, EventLogList, HealthReport, ServiceAction, ServiceInfo } from "../../server/protocol/toolbox.ts";
import { MAX_MESSAGE_CHARS, MAX_SERVICES } from "../../server/protocol/toolbox-limits.ts";
import { smartDisks } from "../toolbox/health.ts";
import { firstLine, run } from "../toolbox/run.ts";
import { type EventQuery, type PlatformToolbox, type ProcessSnapshot, ToolboxError } from "../toolbox/types.ts";
import { signalEach, unixEnvironment } from "./linux-toolbox.ts";

/** macOS: ps(1), kill(2), launchctl(1) for the system domain's jobs, log(1) for the unified log. */

/** `ps` with the executable's path last (it may hold spaces), and a second run for the arguments. */
const PS_FIELDS = ["ps", "-axww", "-o", "pid=,ppid=,user=,%cpu=,rss=,etime=,comm="];
const PS_ARGS = ["ps", "-axww", "-o", "pid=,args="];

/** `ps` elapsed time ([[dd-]hh:]mm:ss) in seconds. */
export function parseEtime(etime: string): number {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(etime.trim());
  if (!m) return 0;
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3])) * 60 + Number(m[4]);
}

/** Parses the two `ps` outputs; `now` (epoch ms) turns elapsed times into start times. */
function parseDarwinPs(fields: string, args: string, now: number): ProcessSnapshot[] {
  const commands = new Map<number, string>();
  for (const line of args.split("\n")) {
    const m = /^\s*(\d+)\s(.*)$/.exec(line);
    if (m) commands.set(Number(m[1]), (m[2] ?? "").trim());
  }
  const out: ProcessSnapshot[] = [];
  for (const line of fields.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+([\d.]+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const path = (m[7] ?? "").trim();
    out.push({
      pid,
      ppid: Number(m[2]),
      user: m[3] ?? "",
      cpuPercent: Number(m[4]),
      memoryBytes: Number(m[5]) * 1024,
      startedAt: now - parseEtime(m[6] ?? "") * 1000,
      name: path.split("/").at(-1) || path,
      command: commands.get(pid) || path,
    });
  }
  return out;
}

/** Parses `launchctl list` (PID, last exit status, label; tab-separated, "-" for none) into services. */
export function parseLaunchctlList(text: string, disabled: ReadonlySet<string>): ServiceInfo[] {
  const out: ServiceInfo[] = [];
  for (const line of text.split("\n").slice(1)) {
    const [pid, status, label] = line.split("\t");
    if (!label?.trim()) continue;
    const running = pid !== undefined && /^\d+$/.test(pid.trim());
    const failed = !running && status !== undefined && status.trim() !== "-" && status.trim() !== "0";
    out.push({
      name: label.trim().slice(0, 256),
      displayName: label.trim().slice(0, 512),
      description: "",
      state: running ? "running" : failed ? "failed" : "stopped",
      startup: disabled.has(label.trim()) ? "disabled" : "unknown",
      pid: running ? Number(pid) : null,
    });
  }
  return out.slice(0, MAX_SERVICES);
}

/** Labels marked disabled in `launchctl print-disabled system` (`"label" => disabled` or `=> true`). */
export function parsePrintDisabled(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/"([^"]+)"\s*=>\s*(disabled|true)/g)) if (m[1]) out.add(m[1]);
  return out;
}

/** launchctl argv for an action on a system-domain job. */
export function launchctlActionArgv(label: string, action: ServiceAction): string[] {
  const target = `system/${label}`;
  switch (action) {
    case "start":
      return ["launchctl", "kickstart", target];
    case "restart":
      return ["launchctl", "kickstart", "-k", target];
    case "stop":
      return ["launchctl", "kill", "SIGTERM", target];
    case "enable":
      return ["launchctl", "enable", target];
    case "disable":
      return ["launchctl", "disable", target];
  }
}

/** `log show` argv: JSON (`--style json`), a time window (the last hour by default), a predicate on type and text. */
export function logShowArgv(q: EventQuery, now: number): string[] {
  const stamp = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, "+0000");
  const types =
    q.level === "error"
      ? "(messageType == error OR messageType == fault)"
      : q.level === "warning"
        ? "(messageType == error OR messageType == fault OR messageType == default)"
        : "(messageType != debug)";
  // the search text's pattern (LOG_TEXT_PATTERN) has no quote or backslash, so it cannot leave its string literal
  const parts = [types, ...(q.q ? [`eventMessage CONTAINS[c] "${q.q}"`] : []), ...(q.unit ? [`process == "${q.unit}"`] : [])];
  return [
    "log",
    "show",
    "--style",
    "json",
    ...(q.level === "info" ? ["--info"] : []),
    "--start",
    stamp(q.since ?? (q.until ?? now) - 3_600_000),
    ...(q.until !== undefined ? ["--end", stamp(q.until)] : []),
    "--predicate",
    parts.join(" AND "),
  ];
}

function unifiedLevel(messageType: string): EventLevel {
  switch (messageType) {
    case "Fault":
      return "critical";
    case "Error":
      return "error";
    case "Default":
      return "warning";
    case "Debug":
      return "debug";
    default:
      return "info";
  }
}

/**
 * The events of `log show --style json`: one JSON array after log's own notices ("Filtering the log
 * data using…", "Skipping info and debug messages…"). Output cut at the agent's byte bound ends
 * inside the array: it is closed after the last whole event.
 */
export function logShowEvents(text: string): Record<string, unknown>[] {
  const start = text.search(/^\[/m);
  if (start < 0) return [];
  const body = text.slice(start).trimEnd();
  const attempt = (t: string) => {
    try {
      const parsed = JSON.parse(t);
      return Array.isArray(parsed) ? (parsed.filter((e) => typeof e === "object" && e !== null) as Record<string, unknown>[]) : undefined;
    } catch {
      return undefined;
    }
  };
  const whole = attempt(body);
  if (whole) return whole;
  const lastEnd = body.lastIndexOf("\n},{");
  return lastEnd > 0 ? (attempt(`${body.slice(0, lastEnd + 2)}]`) ?? []) : [];
}

/** Parses `log show --style json` (oldest first) into the newest `limit` events, newest first. */
export function parseLogShow(text: string, limit: number): EventLogList {
  const all: EventEntry[] = [];
  for (const e of logShowEvents(text)) {
    if (typeof e.eventMessage !== "string" || typeof e.timestamp !== "string") continue;
    const time = Date.parse(e.timestamp.replace(" ", "T").replace(/([+-]\d\d)(\d\d)$/, "$1:$2"));
    const proc = typeof e.processImagePath === "string" ? e.processImagePath.split("/").at(-1) : "";
    all.push({
      time: Number.isFinite(time) ? time : 0,
      level: unifiedLevel(String(e.messageType)),
      source: (typeof e.subsystem === "string" && e.subsystem ? e.subsystem : proc || "log").slice(0, 256),
      message: e.eventMessage.slice(0, MAX_MESSAGE_CHARS),
      ...(typeof e.processID === "number" ? { pid: e.processID } : {}),
    });
  }
  return { source: "unified", items: all.slice(-limit).reverse(), more: all.length > limit };
}

/**
 * Batteries from `pmset -g batt`: " -InternalBattery-0 (id=…)<tab>78%; charging; (no estimate) present: true"
 * (charge and state; pmset says nothing of health or cycles).
 */
export function parsePmsetBatt(text: string): HealthReport["batteries"] {
  const out: HealthReport["batteries"] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*-(\S+)(?: \(id=\d+\))?\s+(\d{1,3})%;\s*([^;]+);/.exec(line);
    if (!m?.[1]) continue;
    out.push({
      name: m[1].slice(0, 128),
      status: (m[3] ?? "").trim().slice(0, 64),
      chargePercent: Number(m[2]),
      healthPercent: null,
      cycleCount: null,
    });
    if (out.length >= 8) break;
  }
  return out;
}

/** The XProtect definitions' version (macOS 11+ keeps the bundle under /Library/Apple). */
export const XPROTECT_VERSION = [
  "defaults",
  "read",
  "/Library/Apple/System/Library/CoreServices/XProtect.bundle/Contents/Info",
  "CFBundleShortVersionString",
];

export const darwinToolbox: PlatformToolbox = {
  processes: async () => {
    const [fields, args] = await Promise.all([run(PS_FIELDS), run(PS_ARGS)]);
    if (fields.exitCode !== 0) throw new ToolboxError("COMMAND_FAILED", `ps failed: ${firstLine(fields.stderr)}`);
    return parseDarwinPs(fields.stdout, args.stdout, Date.now());
  },
  kill: async (pids, signal) => signalEach(pids, signal),
  services: async (names) => {
    const [list, disabled] = await Promise.all([run(["launchctl", "list"]), run(["launchctl", "print-disabled", "system"])]);
    if (list.exitCode !== 0) throw new ToolboxError("COMMAND_FAILED", `launchctl list failed: ${firstLine(list.stderr)}`);
    const items = parseLaunchctlList(list.stdout, parsePrintDisabled(disabled.stdout));
    return { manager: "launchd", items: names ? items.filter((s) => names.includes(s.name)) : items };
  },
  serviceAction: async (name, action) => {
    if ((await run(["launchctl", "print", `system/${name}`], { maxBytes: 262_144 })).exitCode !== 0)
      throw new ToolboxError("NO_SUCH_SERVICE", `no launchd job ${name} in the system domain`);
    const r = await run(launchctlActionArgv(name, action), { timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new ToolboxError("ACTION_FAILED", `launchctl ${action} ${name} failed: ${firstLine(r.stderr || r.stdout)}`);
    const list = await run(["launchctl", "list"]);
    return { manager: "launchd", service: parseLaunchctlList(list.stdout, new Set()).find((s) => s.name === name) ?? null };
  },
  eventLogs: async (q) => {
    // log show prints oldest first and has no count limit: its output is bounded, the newest kept
    const r = await run(logShowArgv(q, Date.now()), { timeoutMs: 30_000, maxBytes: 16 * 1024 * 1024 });
    if (r.exitCode !== 0 && !r.truncated) throw new ToolboxError("COMMAND_FAILED", `log show failed: ${firstLine(r.stderr)}`);
    return parseLogShow(r.stdout, q.limit);
  },
  environment: async () => {
    const r = await run(["launchctl", "getenv", "PATH"]);
    const env = unixEnvironment(undefined);
    return { items: r.exitCode === 0 && r.stdout.trim() ? [{ scope: "system", key: "PATH", value: r.stdout.trim() }, ...env] : env };
  },
  health: async () => {
    const [{ disks, notes }, xprotect, batt] = await Promise.all([
      smartDisks(),
      run(XPROTECT_VERSION),
      run(["pmset", "-g", "batt"], { timeoutMs: 10_000, maxBytes: 16_384 }),
    ]);
    const version = xprotect.exitCode === 0 ? xprotect.stdout.trim().slice(0, 128) : "";
    // XProtect is part of macOS and always on; its definitions' date is not read here
    const antivirus = version
      ? [{ product: "Apple XProtect", enabled: true, realTime: true, definitions: version, definitionsUpdatedAt: null, outdated: false }]
      : [];
    if (!version) notes.push("XProtect version not read");
    const batteries = batt.exitCode === 0 ? parsePmsetBatt(batt.stdout) : [];
    // the SMC's temperatures and fans have no unprivileged command-line reader on macOS (powermetrics needs root and a display of its own)
    return { sensors: [], disks, batteries, antivirus, notes: [...notes, "temperatures and fans are not read on macOS"] };
  },
};
