import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { InventoryPayload, SoftwareItem, SoftwareKey } from "../../server/protocol/patch.ts";
import { MAX_SOFTWARE_ITEMS } from "../../server/protocol/patch-limits.ts";
import { writeFileAtomic } from "../config.ts";
import { agentLog } from "../log.ts";

/** Bytes of JSON the inventory may take in a scan answer (the frame stays under the protocol's 1 MiB). */
const MAX_INVENTORY_BYTES = 800_000;

/** What identifies an item inside one device's inventory. */
function itemKey(i: SoftwareKey): string {
  return `${i.source}\u0000${i.name}\u0000${i.arch}`;
}

function line(i: SoftwareItem): string {
  return JSON.stringify([i.source, i.name, i.arch, i.version, i.publisher, i.installedAt]);
}

/** Items in a stable order (by key), one per key (the first one seen wins), at most MAX_SOFTWARE_ITEMS. */
export function normalise(items: readonly SoftwareItem[]): { items: SoftwareItem[]; truncated: boolean } {
  const byKey = new Map<string, SoftwareItem>();
  for (const i of items) if (!byKey.has(itemKey(i))) byKey.set(itemKey(i), i);
  const sorted = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, i]) => i);
  let kept = sorted.slice(0, MAX_SOFTWARE_ITEMS);
  // a frame holds about 1 MiB: long names and publishers can make fewer items fit
  let size = JSON.stringify(kept).length;
  while (size > MAX_INVENTORY_BYTES && kept.length > 0) {
    kept = kept.slice(0, Math.floor((kept.length * MAX_INVENTORY_BYTES) / size) - 1);
    size = JSON.stringify(kept).length;
  }
  return { items: kept, truncated: kept.length < sorted.length };
}

/** SHA-256 (hex) of a normalised inventory: equal lists, equal hashes, on the agent and on the server. */
export function inventoryHash(items: readonly SoftwareItem[]): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const i of items) h.update(`${line(i)}\n`);
  return h.digest("hex");
}

/** The changes from `before` to `after`. */
export function diffInventory(before: readonly SoftwareItem[], after: readonly SoftwareItem[]) {
  const old = new Map(before.map((i) => [itemKey(i), i]));
  const added: SoftwareItem[] = [];
  const changed: SoftwareItem[] = [];
  for (const i of after) {
    const was = old.get(itemKey(i));
    old.delete(itemKey(i));
    if (!was) added.push(i);
    else if (line(was) !== line(i)) changed.push(i);
  }
  const removed: SoftwareKey[] = [...old.values()].map((i) => ({ source: i.source, name: i.name, arch: i.arch }));
  return { added, changed, removed };
}

/** The inventory the agent last sent, kept on disk beside its config (read only during a scan). */
export interface Snapshot {
  hash: string;
  items: SoftwareItem[];
}

export function loadSnapshot(dir: string): Snapshot | undefined {
  const path = join(dir, "software.json");
  if (!existsSync(path)) return undefined;
  try {
    const s = JSON.parse(readFileSync(path, "utf8")) as Snapshot;
    return typeof s.hash === "string" && Array.isArray(s.items) ? s : undefined;
  } catch {
    agentLog("warn", "software snapshot unreadable; the next scan sends the whole inventory", { path });
    return undefined;
  }
}

export function saveSnapshot(dir: string, s: Snapshot): void {
  writeFileAtomic(join(dir, "software.json"), JSON.stringify(s));
}

/**
 * What to send: `same` when the server holds this very inventory, a delta when it holds the one the
 * agent sent last (and the delta is smaller), else the whole list. A delta the server lost leaves it
 * with an older hash, which then matches nothing here: the whole list goes again.
 */
export function inventoryPayload(
  current: Snapshot & { truncated: boolean },
  last: Snapshot | undefined,
  serverHash: string | null,
): InventoryPayload {
  if (serverHash === current.hash) return { mode: "same", hash: current.hash };
  if (last && serverHash === last.hash) {
    const d = diffInventory(last.items, current.items);
    if (JSON.stringify(d).length < JSON.stringify(current.items).length)
      return { mode: "delta", base: last.hash, hash: current.hash, ...d };
  }
  return { mode: "full", hash: current.hash, items: current.items, truncated: current.truncated };
}
