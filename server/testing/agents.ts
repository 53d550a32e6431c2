import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

/** Enrolls the real compiled agent binary against the test server. */
export async function enrollRealAgent(srv: TestServer, tags: string[] = []): Promise<EnrolledAgent> {
  const bin = await agentBinary();
  const dir = mkdtempSync(join(tmpdir(), "sentpulse-agent-"));
  const configPath = join(dir, "agent.json");
  const token = await createToken(srv);
  const args = [bin, "enroll", "--server", srv.url, "--token", token, "--config", configPath, ...tags.flatMap((t) => ["--tag", t])];
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
        env: { ...process.env, SENTPULSE_AGENT_DEBUG: "1" },
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
