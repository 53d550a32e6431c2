import type { CallResult } from "../../server/protocol/frames.ts";
import type { KillResult, ProcessInfo, ProcessList, Signal, ToolboxRequest } from "../../server/protocol/toolbox.ts";
import { MAX_COMMAND_CHARS, MAX_PROCESSES } from "../../server/protocol/toolbox-limits.ts";
import { agentLog } from "../log.ts";
import { type PlatformToolbox, type ProcessSnapshot, ToolboxError } from "./types.ts";
import { sendWake } from "./wol.ts";

/**
 * The toolbox's call handler, loaded on the first `toolbox` call (agent/main.ts imports it
 * dynamically), so an agent nobody inspects keeps its idle footprint. Nothing here runs on a timer:
 * a process list is collected when a technician's dashboard asks for one (every 2 s while the
 * Processes tab is open) and never otherwise.
 */

/** The previous process list is forgotten after this long, so CPU shares need a fresh pair then. */
const SNAPSHOT_TTL_MS = 15_000;
/** Gap between the two lists of a first request, for CPU shares. */
const FIRST_SAMPLE_GAP_MS = 250;

let previous: { at: number; cpu: Map<number, number>; timer: ReturnType<typeof setTimeout> } | undefined;

function remember(at: number, list: ProcessSnapshot[]): void {
  clearTimeout(previous?.timer);
  const cpu = new Map<number, number>();
  for (const p of list) if (p.cpuTimeMs !== undefined) cpu.set(p.pid, p.cpuTimeMs);
  const timer = setTimeout(() => {
    previous = undefined;
  }, SNAPSHOT_TTL_MS);
  timer.unref?.();
  previous = { at, cpu, timer };
}

/** The process list with CPU shares since the previous list (or over a short gap for the first one). */
async function processList(tb: PlatformToolbox): Promise<ProcessList> {
  if (!previous) {
    const first = await tb.processes();
    remember(performance.now(), first);
    await Bun.sleep(FIRST_SAMPLE_GAP_MS);
  }
  const list = await tb.processes();
  const now = performance.now();
  const before = previous;
  const elapsedMs = before ? Math.max(1, now - before.at) : 1;
  remember(now, list);
  list.sort((a, b) => a.pid - b.pid);
  const items: ProcessInfo[] = list.slice(0, MAX_PROCESSES).map((p) => {
    let cpuPercent = p.cpuPercent ?? 0;
    if (p.cpuTimeMs !== undefined) {
      const was = before?.cpu.get(p.pid);
      cpuPercent = was === undefined ? 0 : Math.max(0, ((p.cpuTimeMs - was) / elapsedMs) * 100);
    }
    return {
      pid: p.pid,
      ppid: p.ppid,
      name: p.name.slice(0, 256),
      user: p.user.slice(0, 256),
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      memoryBytes: Math.max(0, p.memoryBytes),
      command: p.command.slice(0, MAX_COMMAND_CHARS),
      startedAt: p.startedAt,
    };
  });
  return { items, truncated: list.length > MAX_PROCESSES };
}

/** The pid and its descendants, children before their parents (so a parent cannot respawn them). */
export function treeOf(pid: number, list: readonly Pick<ProcessSnapshot, "pid" | "ppid">[]): number[] {
  const children = new Map<number, number[]>();
  for (const p of list) if (p.pid !== p.ppid) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const order: number[] = [];
  const seen = new Set<number>();
  const visit = (id: number, depth: number) => {
    if (seen.has(id) || depth > 10_000) return;
    seen.add(id);
    for (const c of children.get(id) ?? []) visit(c, depth + 1);
    order.push(id);
  };
  visit(pid, 0);
  return order;
}

/** Kills a process (and its tree). The agent itself, its ancestors and pid 1 are refused. */
async function kill(tb: PlatformToolbox, pid: number, signal: Signal, tree: boolean): Promise<KillResult> {
  const list = await tb.processes();
  const target = list.find((p) => p.pid === pid);
  if (!target) throw new ToolboxError("NO_SUCH_PROCESS", `no process ${pid} on this device`);
  const protectedPids = new Set([0, 1, process.pid]);
  for (let p = process.ppid, hops = 0; p > 1 && hops < 64; hops++) {
    protectedPids.add(p);
    p = list.find((x) => x.pid === p)?.ppid ?? 0;
  }
  const targets = tree ? treeOf(pid, list) : [pid];
  const hit = targets.filter((t) => protectedPids.has(t));
  if (hit.length > 0) throw new ToolboxError("PROTECTED_PROCESS", `process ${hit[0]} is the agent, one of its parents or init`);
  return { killed: await tb.kill(targets, signal), name: target.name.slice(0, 256) };
}

/** Bytes of JSON an answer may take: its frame must stay under the protocol's 1 MiB. */
const MAX_ANSWER_BYTES = 900_000;

/** Drops items from the end of a list answer until its JSON fits in a frame (marked `truncated`). */
export function fitFrame<T extends { items: unknown[] }>(data: T): T {
  let size = JSON.stringify(data).length;
  if (size <= MAX_ANSWER_BYTES) return data;
  let items = data.items;
  while (size > MAX_ANSWER_BYTES && items.length > 0) {
    items = items.slice(0, Math.floor((items.length * MAX_ANSWER_BYTES) / size) - 1);
    size = JSON.stringify({ ...data, items }).length;
  }
  return { ...data, items, ...("more" in data ? { more: true } : { truncated: true }) };
}

/** Runs one toolbox request; every failure becomes `{ ok: false, code, message }`. */
export async function handleToolbox(req: ToolboxRequest, load: () => Promise<PlatformToolbox>): Promise<CallResult> {
  try {
    const tb = await load();
    switch (req.op) {
      case "processes":
        return { ok: true, data: fitFrame(await processList(tb)) };
      case "kill":
        return { ok: true, data: await kill(tb, req.pid, req.signal, req.tree) };
      case "services":
        return { ok: true, data: fitFrame(await tb.services(req.names)) };
      case "service_action":
        return { ok: true, data: await tb.serviceAction(req.name, req.action) };
      case "event_logs":
        return { ok: true, data: fitFrame(await tb.eventLogs(req)) };
      case "environment":
        return { ok: true, data: fitFrame(await tb.environment()) };
      case "health":
        return { ok: true, data: await tb.health() };
      case "wake":
        return { ok: true, data: { sent: await sendWake(req.macs, req.broadcasts, req.port) } };
    }
  } catch (err) {
    if (err instanceof ToolboxError) return { ok: false, code: err.code, message: err.message.slice(0, 1024) };
    agentLog("error", "toolbox request failed", { op: req.op, error: String(err).slice(0, 300) });
    return { ok: false, code: "TOOLBOX_FAILED", message: String(err).slice(0, 1024) };
  }
}
