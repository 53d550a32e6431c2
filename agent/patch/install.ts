import type { CommandUpdate } from "../../server/protocol/frames.ts";
import type { PatchInstallSpec } from "../../server/protocol/patch.ts";
import { agentLog } from "../log.ts";
import type { Platform } from "../platform/types.ts";
import { exclusive } from "./exclusive.ts";
import type { Emit } from "./types.ts";

type Outcome = Pick<CommandUpdate, "status" | "exitCode" | "error">;

/**
 * A `patch_install` command: each update in turn, to exactly its version, with the package manager's
 * output streamed and a `[patch] name=version: installed|failed` line per update (the server checks
 * the result with a scan afterwards), then the reboot the policy asks for. One update failing does not
 * stop the others; the command fails when any did.
 */
export async function installUpdates(platform: Platform, spec: PatchInstallSpec, emit: Emit, simulatePower: boolean): Promise<Outcome> {
  const p = await platform.patch();
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  const failed: string[] = [];
  for (const [n, u] of spec.updates.entries()) {
    const left = deadline - Date.now();
    if (left <= 0) {
      failed.push(u.name);
      emit("stdout", `[patch] ${u.name}=${u.version}: not started (the install's time ran out)\n`);
      continue;
    }
    emit("stdout", `[patch] (${n + 1}/${spec.updates.length}) installing ${u.name}=${u.version}\n`);
    const r = await exclusive(() => p.install(u, emit, left));
    if (!r.ok) failed.push(u.name);
    emit("stdout", `[patch] ${u.name}=${u.version}: ${r.ok ? "installed" : `failed (${r.error ?? `exit ${r.exitCode}`})`}\n`);
  }
  const needed = await p.rebootRequired().catch(() => false);
  if (spec.reboot === "force" || (spec.reboot === "if_needed" && needed)) {
    const argv = platform.powerCommand("reboot", {
      delaySeconds: spec.rebootDelaySeconds,
      message: "Restarting to finish installing updates",
    });
    emit("stdout", `[patch] reboot: ${spec.reboot === "force" ? "forced by the policy" : "needed"}, in ${spec.rebootDelaySeconds} s\n`);
    if (simulatePower) agentLog("info", "power action simulated", { argv });
    else Bun.spawn(argv, { stdout: "ignore", stderr: "ignore" });
  } else if (needed) emit("stdout", "[patch] reboot: needed, not done (the policy says never)\n");
  return failed.length === 0
    ? { status: "succeeded", exitCode: 0 }
    : { status: "failed", exitCode: 1, error: `${failed.length} of ${spec.updates.length} failed: ${failed.join(", ")}`.slice(0, 1000) };
}
