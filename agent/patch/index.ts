import type { CallResult } from "../../server/protocol/frames.ts";
import type { PatchRequest, PatchScan } from "../../server/protocol/patch.ts";
import { agentLog } from "../log.ts";
import { exclusive } from "./exclusive.ts";
import { inventoryHash, inventoryPayload, loadSnapshot, normalise, saveSnapshot } from "./inventory.ts";
import type { PlatformPatch } from "./types.ts";

/**
 * The `patch` call handler, loaded on the first call (agent/main.ts imports it dynamically): reads
 * the software inventory and the pending updates, answers with the inventory as a delta against the
 * server's copy. Nothing stays in memory between scans; the last inventory sent is on disk.
 */
export async function handlePatch(req: PatchRequest, stateDir: string, load: () => Promise<PlatformPatch>): Promise<CallResult> {
  try {
    const p = await load();
    return { ok: true, data: await exclusive(() => scan(req, stateDir, p)) };
  } catch (err) {
    agentLog("error", "patch scan failed", { error: String(err).slice(0, 300) });
    return { ok: false, code: "SCAN_FAILED", message: String(err).slice(0, 1024) };
  }
}

/** One scan: inventory and pending updates read one after the other (package managers hold locks). */
async function scan(req: PatchRequest, stateDir: string, p: PlatformPatch): Promise<PatchScan> {
  const started = performance.now();
  const inv = await p.inventory();
  const pending = await p.pending(req.refresh);
  const { items, truncated } = normalise(inv.items);
  const current = { hash: inventoryHash(items), items, truncated };
  const inventory = inventoryPayload(current, loadSnapshot(stateDir), req.inventoryHash);
  if (inventory.mode !== "same") saveSnapshot(stateDir, { hash: current.hash, items });
  const maxRss = process.resourceUsage?.().maxRSS;
  return {
    inventory,
    updates: pending.updates,
    sources: pending.sources,
    problems: [...inv.problems, ...pending.problems].slice(0, 16).map((x) => ({ ...x, message: x.message.slice(0, 1024) })),
    durationMs: Math.round(performance.now() - started),
    // maxRSS is in KiB on Linux and macOS
    peakRssBytes: typeof maxRss === "number" ? maxRss * 1024 : null,
  };
}
