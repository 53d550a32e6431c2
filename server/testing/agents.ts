import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { createToken } from "./fixtures.ts";
import { agentBinary, type TestServer } from "./harness.ts";

export interface EnrolledAgent {
  configPath: string;
  deviceId: string;
  config: { server: string; deviceId: string; secret: string };
  /** Starts `sentpulse-agent run` (the real compiled binary); output is kept for failures. */
  start(): Subprocess;
  stop(): Promise<void>;
  output(): string;
}

/**
 * Enrolls the real compiled agent binary against the test server. `binary`: another build (an older
 * agent); `server`: the URL the agent uses (a proxy in front of the test server).
 */
export async function enrollRealAgent(
  srv: TestServer,
  tags: string[] = [],
  o: { binary?: string; server?: string; env?: Record<string, string> } = {},
): Promise<EnrolledAgent> {
  const bin = o.binary ?? (await agentBinary());
  const dir = mkdtempSync(join(tmpdir(), "sentpulse-agent-"));
  const configPath = join(dir, "agent.json");
  const token = await createToken(srv);
  const args = [
    bin,
    "enroll",
    "--server",
    o.server ?? srv.url,
    "--token",
    token,
    "--config",
    configPath,
    ...tags.flatMap((t) => ["--tag", t]),
  ];
  // async: the server under test runs in this same process and must keep answering
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`enroll failed: ${await new Response(p.stderr).text()}`);
  const config = await Bun.file(configPath).json();
  let proc: Subprocess | undefined;
  let log = "";
  return {
    configPath,
    deviceId: config.deviceId,
    config,
    start() {
      proc = Bun.spawn([bin, "run", "--config", configPath], {
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, SENTPULSE_AGENT_DEBUG: "1", ...o.env },
      });
      const drain = async (s: ReadableStream<Uint8Array>) => {
        for await (const chunk of s) log = (log + new TextDecoder().decode(chunk)).slice(-20_000);
      };
      void drain(proc.stderr as ReadableStream<Uint8Array>);
      void drain(proc.stdout as ReadableStream<Uint8Array>);
      return proc;
    },
    async stop() {
      if (!proc) return;
      proc.kill("SIGTERM");
      await proc.exited;
      proc = undefined;
    },
    output: () => log,
  };
}

const ROOT = resolve(import.meta.dir, "../..");

/**
 * The real agent as it was at an earlier commit of this repository (its sources taken from git,
 * built with this checkout's dependencies), to test the server against agents already deployed.
 * Built once per commit into dist/agent/.
 */
export async function agentBinaryAt(commit: string): Promise<string | undefined> {
  // a shallow clone (CI may make one) has no earlier commit to build
  const has = Bun.spawnSync(["git", "-C", ROOT, "cat-file", "-e", `${commit}^{commit}`]);
  if (has.exitCode !== 0) return undefined;
  const out = join(ROOT, "dist/agent", `sentpulse-agent-linux-x64-${commit.slice(0, 12)}`);
  if (existsSync(out)) return out;
  const src = mkdtempSync(join(tmpdir(), "sentpulse-agent-src-"));
  try {
    const run = async (cmd: string[], cwd: string) => {
      const p = Bun.spawn(cmd, { cwd, stdout: "ignore", stderr: "pipe" });
      if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")} failed: ${await new Response(p.stderr).text()}`);
    };
    await run(["sh", "-c", `git -C "${ROOT}" archive ${commit} agent server/protocol server/version.ts | tar -x -C "${src}"`], ROOT);
    symlinkSync(join(ROOT, "node_modules"), join(src, "node_modules"));
    mkdirSync(join(ROOT, "dist/agent"), { recursive: true });
    await run(["bun", "build", "agent/main.ts", "--compile", "--target=bun-linux-x64", "--outfile", out], src);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  return out;
}
