import type { PendingUpdate, UpdateSource } from "../../server/protocol/patch.ts";
import { runStreaming } from "../patch/stream.ts";
import type { PlatformPatch, ScanProblem, UpdateScan } from "../patch/types.ts";
import { runCommand } from "./exec.ts";
import { parseBrewList, parseBrewOutdated, parseSoftwareUpdateList, parseSystemProfilerApps } from "./darwin-patch-parse.ts";

const problem = (source: string, err: unknown): ScanProblem => ({
  source,
  code: "COMMAND_FAILED",
  message: String(err instanceof Error ? err.message : err).slice(0, 1024),
});
/** Set when an installed update's listing said it needs a restart (until the agent restarts with the machine). */
let restartNeeded = false;
const has = (bin: string) => Bun.which(bin) !== null;

/** The argument vector that installs one update (never a shell); a softwareupdate label is looked up again by its name. */
export function installArgv(u: { source: UpdateSource; name: string; version: string }, label?: string): string[] {
  switch (u.source) {
    case "softwareupdate":
      if (!label) throw new Error(`no pending software update ${u.name}`);
      return ["softwareupdate", "--install", label, "--agree-to-license"];
    case "brew":
      // a formula or a cask: brew finds which by the name
      return ["brew", "upgrade", u.name];
    default:
      throw new Error(`${u.source} updates are not installed on macOS`);
  }
}

export const darwinPatch: PlatformPatch = {
  async inventory() {
    const problems: ScanProblem[] = [];
    const items = parseSystemProfilerApps(
      await runCommand(["system_profiler", "SPApplicationsDataType", "-json", "-detailLevel", "mini"], 180_000),
    );
    if (has("brew"))
      await runCommand(["brew", "list", "--versions"], 60_000)
        .then((out) => items.push(...parseBrewList(out)))
        .catch((err) => problems.push(problem("brew", err)));
    return { items, problems };
  },
  async pending(): Promise<UpdateScan> {
    const sources: UpdateSource[] = ["softwareupdate"];
    const problems: ScanProblem[] = [];
    const updates: PendingUpdate[] = await runCommand(["softwareupdate", "--list"], 600_000)
      .then((out) => parseSoftwareUpdateList(out).map(({ label: _, ...u }) => u))
      .catch((err) => {
        problems.push(problem("softwareupdate", err));
        return [];
      });
    if (has("brew")) {
      sources.push("brew");
      await runCommand(["brew", "outdated", "--json=v2"], 180_000)
        .then((out) => updates.push(...parseBrewOutdated(out)))
        .catch((err) => problems.push(problem("brew", err)));
    }
    return { sources, updates, problems };
  },
  async install(u, emit, timeoutMs) {
    let label: string | undefined;
    if (u.source === "softwareupdate") {
      const found = parseSoftwareUpdateList(await runCommand(["softwareupdate", "--list"], 600_000)).find((x) => x.name === u.name);
      label = found?.label;
      const r = await runStreaming(installArgv(u, label), {}, emit, timeoutMs);
      // softwareupdate says "Action: restart" for updates that finish only after one
      if (r.ok && found?.rebootRequired) restartNeeded = true;
      return r;
    }
    return runStreaming(installArgv(u, label), {}, emit, timeoutMs);
  },
  async rebootRequired() {
    return restartNeeded;
  },
};
