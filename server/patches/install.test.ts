import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { installUpdates } from "../../agent/patch/install.ts";
import { linux } from "../../agent/platform/linux.ts";
import { type AptRepo, aptRepo } from "../testing/apt-repo.ts";

/**
 * The agent's install of a `patch_install` command with the real apt and dpkg of this machine (a
 * repository built by the test, apt pointed at it through APT_CONFIG): one line per update, a version
 * the repository does not hold fails without stopping the others, and the reboot the policy asks for
 * (simulated: the agent's --simulate-power switch, so the machine stays up).
 */
const tag = crypto.randomUUID().slice(0, 6);
const A = `sentpulse-inst-a-${tag}`;
const B = `sentpulse-inst-b-${tag}`;
let repo: AptRepo;
let before: string | undefined;

beforeAll(() => {
  repo = aptRepo({ packages: [A, B], from: "1.0", to: "2.0", suite: "stable-security", origin: "SENTpulse-Test" });
  repo.installLocal(A, "1.0");
  repo.installLocal(B, "1.0");
  before = process.env.APT_CONFIG;
  process.env.APT_CONFIG = repo.aptConfig;
  const update = Bun.spawnSync(["apt-get", "update", "-q"], { stdout: "ignore", stderr: "ignore", env: { ...process.env } });
  if (update.exitCode !== 0) throw new Error("apt-get update failed");
});
afterAll(() => {
  if (before === undefined) delete process.env.APT_CONFIG;
  else process.env.APT_CONFIG = before;
  repo?.cleanup();
});

describe("installing updates on the agent", () => {
  test("each update in turn: one installed, one at a version apt does not have fails; the command fails naming it; a forced reboot follows", async () => {
    let out = "";
    const outcome = await installUpdates(
      linux,
      {
        kind: "patch_install",
        updates: [
          { source: "apt", name: B, version: "9.9" },
          { source: "apt", name: A, version: "2.0" },
        ],
        reboot: "force",
        rebootDelaySeconds: 120,
        timeoutSeconds: 300,
      },
      (_stream, text) => {
        out += text;
      },
      true,
    );
    expect(outcome, out).toMatchObject({ status: "failed", exitCode: 1 });
    expect(outcome.error, out).toBe(`1 of 2 failed: ${B}`);
    expect(out).toContain(`[patch] (1/2) installing ${B}=9.9`);
    expect(out).toMatch(new RegExp(`\\[patch\\] ${B}=9\\.9: failed \\(apt-get exited with 100\\)`));
    expect(out).toContain(`[patch] ${A}=2.0: installed`);
    expect(out).toContain("[patch] reboot: forced by the policy, in 120 s");
    expect(repo.installedVersion(A)).toBe("2.0");
    expect(repo.installedVersion(B)).toBe("1.0");
  }, 180_000);

  test("reboot if needed: nothing needs one here, so none is asked", async () => {
    let out = "";
    const outcome = await installUpdates(
      linux,
      {
        kind: "patch_install",
        updates: [{ source: "apt", name: B, version: "2.0" }],
        reboot: "if_needed",
        rebootDelaySeconds: 0,
        timeoutSeconds: 300,
      },
      (_s, t) => {
        out += t;
      },
      true,
    );
    expect(outcome).toEqual({ status: "succeeded", exitCode: 0 });
    expect(out).not.toContain("reboot");
    expect(repo.installedVersion(B)).toBe("2.0");
  }, 180_000);
});
