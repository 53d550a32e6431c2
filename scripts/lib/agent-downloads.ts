import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { AGENT_TARGETS, type AgentTarget, agentFileName } from "../../server/ops/downloads.ts";

/** Where `scripts/build-agents` left them: dist/agent, or its AGENT_BUILD_DIR. */
const DIR = process.env.AGENT_BUILD_DIR ?? join(import.meta.dir, "..", "..", "dist", "agent");
const size = (path: string) => (existsSync(path) ? statSync(path).size : undefined);

/** One target's files in dist/agent as `scripts/build-agents` leaves them, bytes (undefined: not made). */
export interface TargetFiles {
  target: AgentTarget;
  binary?: number;
  gzip?: number;
  xz?: number;
  txz?: number;
  bcj2?: number;
  /** What the one-line installer fetches on a stock system, and how it unpacks it. */
  bytes?: number;
  how: string;
}

/**
 * Each target's download as the installer takes it on a stock system: install.sh uses xz where the
 * `xz` program exists (Debian, Ubuntu, RHEL), the xz-compressed tar where tar reads xz itself (macOS),
 * else gzip; install.ps1 takes the BCJ2 copy (decoded by its own C# decoder) where there is one, else gzip.
 */
export function installerDownloads(): TargetFiles[] {
  return AGENT_TARGETS.map((target) => {
    const bin = join(DIR, agentFileName(target));
    const f = {
      target,
      binary: size(bin),
      gzip: size(`${bin}.gz`),
      xz: size(`${bin}.xz`),
      txz: size(`${bin}.tar.xz`),
      bcj2: size(`${bin}.bcj2`),
    };
    const [bytes, how] = target.startsWith("windows")
      ? f.bcj2
        ? [f.bcj2, "bcj2 (install.ps1)"]
        : [f.gzip, "gzip (install.ps1)"]
      : target.startsWith("linux") && f.xz
        ? [f.xz, "xz (install.sh)"]
        : target.startsWith("darwin") && f.txz
          ? [f.txz, "tar.xz (install.sh, macOS tar)"]
          : [f.gzip, "gzip (install.sh)"];
    return { ...f, bytes: f.binary === undefined ? undefined : bytes, how };
  });
}
