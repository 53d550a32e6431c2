import { readdirSync, readFileSync } from "node:fs";
import type { AntivirusStatus } from "../../server/protocol/toolbox.ts";
import { run } from "./run.ts";

/** Definitions older than this are outdated (the three days). */
export const MAX_DEFINITIONS_AGE_MS = 3 * 24 * 3600 * 1000;

/**
 * `clamscan --version` / `clamd --version`: "ClamAV 1.4.6" without a signature database, or
 * "ClamAV <engine>/<database version>/<database date>" with one.
 */
export function parseClamVersion(text: string, now: number): AntivirusStatus | undefined {
  const m = /^ClamAV ([^\s/]+)(?:\/(\d+)\/(.+))?$/m.exec(text.trim());
  if (!m) return undefined;
  const updated = m[3] ? Date.parse(m[3].trim()) : Number.NaN;
  const definitionsUpdatedAt = Number.isFinite(updated) ? updated : null;
  return {
    product: `ClamAV ${m[1]}`.slice(0, 128),
    enabled: null,
    realTime: null,
    definitions: m[2] ?? null,
    definitionsUpdatedAt,
    outdated: definitionsUpdatedAt === null || now - definitionsUpdatedAt > MAX_DEFINITIONS_AGE_MS,
  };
}

/** Names of the running programs (/proc/<pid>/comm), to tell whether clamd and clamonacc run. */
function runningPrograms(): Set<string> {
  const names = new Set<string>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      names.add(readFileSync(`/proc/${pid}/comm`, "utf8").trim());
    } catch {}
  }
  return names;
}

/** ClamAV on Linux: installed or not, clamd (the engine) and clamonacc (on-access scanning) running, definitions' age. */
export async function linuxAntivirus(now = Date.now()): Promise<{ antivirus: AntivirusStatus[]; notes: string[] }> {
  const clamscan = Bun.which("clamscan") ?? Bun.which("clamd") ?? Bun.which("clamdscan");
  if (!clamscan) return { antivirus: [], notes: ["no antivirus found: ClamAV is not installed"] };
  const r = await run([clamscan, "--version"], { timeoutMs: 15_000, maxBytes: 4096 });
  const status = parseClamVersion(r.stdout, now);
  if (!status) return { antivirus: [], notes: [`${clamscan} --version printed no version`] };
  const running = runningPrograms();
  return {
    antivirus: [{ ...status, enabled: running.has("clamd"), realTime: running.has("clamonacc") }],
    notes: status.definitions === null ? ["ClamAV has no signature database (freshclam has not run)"] : [],
  };
}
