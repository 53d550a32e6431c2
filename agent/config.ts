import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import * as v from "valibot";

const AgentConfigSchema = v.object({
  server: v.pipe(v.string(), v.url()),
  deviceId: v.pipe(v.string(), v.uuid()),
  secret: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  tags: v.optional(v.array(v.string())),
  /** Never reboot or shut down for real: log the command instead (tests, demos). */
  simulatePower: v.optional(v.boolean()),
  /** Where undelivered telemetry waits; default `spool/` beside the config file. */
  spoolDir: v.optional(v.string()),
  /** Spool bound in bytes (default 50 MB); the oldest batches are dropped beyond it. */
  spoolMaxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /** Quiet seconds before once-used memory goes back to the OS (default 30; 0 never). */
  releasePagesAfterS: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400))),
});
export type AgentConfig = v.InferOutput<typeof AgentConfigSchema>;

/** Writes a file so that a crash leaves either the old or the new content: temp file, fsync, rename. */
export function writeFileAtomic(path: string, content: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Reads and validates the agent's config file; throws a clear message when missing or invalid. */
export async function loadAgentConfig(path: string): Promise<AgentConfig> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new Error(`no agent config at ${path}: run "sentpulse-agent enroll --server URL --token TOKEN" first`);
  const parsed = v.safeParse(AgentConfigSchema, await file.json());
  if (!parsed.success) throw new Error(`agent config ${path} is invalid: ${v.summarize(parsed.issues)}`);
  return parsed.output;
}

/** Saves the config atomically with mode 0600 (it holds the device secret). */
export function saveAgentConfig(path: string, config: AgentConfig): void {
  writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`, 0o600);
}

export function spoolDirFor(path: string, config: AgentConfig): string {
  return config.spoolDir ?? join(dirname(path), "spool");
}
