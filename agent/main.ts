import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { treaty } from "@elysiajs/eden";
import type { App } from "../server/app.ts";
import { VERSION } from "../server/version.ts";
import { loadAgentConfig, saveAgentConfig, spoolDirFor } from "./config.ts";
import { Footprint } from "./footprint.ts";
import { lazyExecutor, lazyTerminals } from "./lazy.ts";
import { agentLog } from "./log.ts";
import { currentPlatform } from "./platform/index.ts";
import { Pulse, type PulseOptions } from "./transport/pulse.ts";
import { Spool } from "./transport/spool.ts";

/** Quiet seconds (no technician activity) before the agent hands once-used pages back to the OS. */
const DEFAULT_RELEASE_PAGES_AFTER_S = 30;

const USAGE = `sentpulse-agent ${VERSION}
Usage:
  sentpulse-agent enroll --server URL --token TOKEN [--tag key=value]... [--config PATH]
  sentpulse-agent run [--config PATH]
  sentpulse-agent install [--config PATH]     register and start the system service
  sentpulse-agent uninstall [--config PATH]   stop and remove the system service
  sentpulse-agent status [--config PATH]
  sentpulse-agent version`;

async function enroll(configPath: string, server: string, token: string, tags: string[]): Promise<void> {
  const platform = currentPlatform();
  const facts = await platform.facts();
  const base = server.replace(/\/+$/, "");
  const { data, error } = await treaty<App>(base).api.agent.v1.enroll.post({ token, agentVersion: VERSION, facts, tags });
  if (error) {
    const body = error.value as { error?: { code?: string; message?: string } } | undefined;
    throw new Error(`enrollment refused (${error.status}): ${body?.error?.message ?? body?.error?.code ?? "unknown error"}`);
  }
  saveAgentConfig(configPath, { server: base, deviceId: data.deviceId, secret: data.secret, tags });
  console.log(`Enrolled ${facts.hostname} as device ${data.deviceId}; config saved to ${configPath}`);
}

async function run(configPath: string): Promise<void> {
  const config = await loadAgentConfig(configPath);
  const platform = currentPlatform();
  const spool = new Spool(spoolDirFor(configPath, config), config.spoolMaxBytes);
  const options: PulseOptions = {
    configPath,
    config,
    collector: platform.createCollector(),
    spool,
    agentVersion: VERSION,
    facts: () => platform.facts(),
    // the toolbox's code is evaluated on the first call only: an agent nobody inspects stays as small as before
    toolbox: (req) => import("./toolbox/index.ts").then((m) => m.handleToolbox(req, () => platform.toolbox())),
    patch: (req) => import("./patch/index.ts").then((m) => m.handlePatch(req, dirname(configPath), () => platform.patch())),
    files: (req, payload) => import("./files/index.ts").then((m) => m.handleFiles(req, payload)),
  };
  const footprint = new Footprint(platform, (config.releasePagesAfterS ?? DEFAULT_RELEASE_PAGES_AFTER_S) * 1000);
  options.onActivity = () => footprint.activity();
  const pulse = new Pulse(options);
  // executor and terminals are evaluated on first use, like the toolbox (docs/benchmarks.md, agent footprint)
  options.terminals = lazyTerminals(platform.os, {
    output: (sessionId, data) => pulse.sendTerminal({ type: "terminal_output", data: { sessionId, data } }),
    exit: (sessionId, code, error) => pulse.sendTerminal({ type: "terminal_exit", data: { sessionId, code, ...(error ? { error } : {}) } }),
  });
  options.executor = lazyExecutor(
    join(dirname(configPath), "commands.json"),
    platform,
    config.simulatePower ?? false,
    (u) => pulse.sendCommandUpdate(u),
    () => pulse.serverNow(),
  );
  footprint.start();
  pulse.start();
  agentLog("info", "agent started", { version: VERSION, deviceId: config.deviceId, server: config.server });
  const stop = (signal: string) => {
    agentLog("info", "agent stopping", { signal });
    footprint.stop();
    pulse.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

async function runPlan(plan: { files: { path: string; content: string; mode: number }[]; commands: string[][] }): Promise<void> {
  for (const f of plan.files) {
    mkdirSync(dirname(f.path), { recursive: true });
    await Bun.write(f.path, f.content, { mode: f.mode });
  }
  for (const argv of plan.commands) {
    const p = Bun.spawnSync(argv, { stdout: "inherit", stderr: "inherit" });
    if (p.exitCode !== 0) throw new Error(`command failed (${p.exitCode}): ${argv.join(" ")}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // the file explorer's worker (agent/files/worker.ts): this binary again, as an unprivileged account
  if (command === "__files-worker") return import("./files/worker.ts").then((m) => m.runWorker().then(() => 0));
  const { values } = parseArgs({
    args: rest,
    options: {
      server: { type: "string" },
      token: { type: "string" },
      tag: { type: "string", multiple: true },
      config: { type: "string" },
    },
    strict: true,
  });
  const platform = currentPlatform();
  const configPath = values.config ?? platform.defaultConfigPath();
  switch (command) {
    case "enroll":
      if (!values.server || !values.token) throw new Error("enroll needs --server URL and --token TOKEN");
      await enroll(configPath, values.server, values.token, values.tag ?? []);
      return 0;
    case "run":
      await run(configPath);
      return -1; // keeps running
    case "install":
    case "uninstall": {
      if (!existsSync(configPath)) throw new Error(`no config at ${configPath}: enroll first`);
      const paths = { binaryPath: process.execPath, configPath };
      await runPlan(command === "install" ? platform.installService(paths) : platform.uninstallService(paths));
      console.log(command === "install" ? "Service installed and started." : "Service removed.");
      return 0;
    }
    case "status": {
      const config = await loadAgentConfig(configPath);
      const spool = new Spool(spoolDirFor(configPath, config));
      console.log(
        JSON.stringify(
          {
            version: VERSION,
            server: config.server,
            deviceId: config.deviceId,
            configPath,
            spooledBatches: spool.size,
            spooledBytes: spool.bytesOnDisk,
          },
          null,
          2,
        ),
      );
      return 0;
    }
    case "version":
    case "--version":
      console.log(VERSION);
      return 0;
    default:
      console.log(USAGE);
      return command === undefined || command === "help" || command === "--help" ? 0 : 2;
  }
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (err) {
  console.error(`sentpulse-agent: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
