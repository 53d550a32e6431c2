/**
 * Terminal latency with the real compiled agent: time from opening /api/v1/devices/:id/terminal
 * to the shell's first prompt, and keystroke echo round trips (one character in, its echo out).
 *
 *   bun scripts/bench-terminal.ts --opens 10 --keys 300
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startBenchServer } from "./lib/bench-server.ts";

const { values: opt } = parseArgs({ options: { opens: { type: "string", default: "10" }, keys: { type: "string", default: "300" } } });
const run = (argv: string[]) => {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString()}`);
};
run(["scripts/build-agents", "linux-x64"]);
const dir = mkdtempSync(join(tmpdir(), "sentpulse-termbench-"));
const server = await startBenchServer({ SENTPULSE_TELEMETRY_INTERVAL_S: "30" });
const bin = "dist/agent/sentpulse-agent-linux-x64";
let agent: Bun.Subprocess | undefined;
const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;?]*[a-zA-Z]`, "g");
const stripAnsi = (s: string) => s.replace(ANSI, "").trimEnd();
/** A shell prompt ends the output: bash's $ or #, zsh's %, PowerShell's >. */
const PROMPT = /[$#%>]$/;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? Number.NaN;
try {
  const { base, cookie } = server;
  const { token } = (await (
    await fetch(`${base}/api/v1/enrollment-tokens`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: "{}" })
  ).json()) as { token: string };
  const config = join(dir, "agent.json");
  run([bin, "enroll", "--server", base, "--token", token, "--config", config]);
  agent = Bun.spawn([bin, "run", "--config", config], { stdout: "ignore", stderr: "ignore" });
  const { deviceId } = (await Bun.file(config).json()) as { deviceId: string };
  for (let i = 0; ; i++) {
    const d = (await (await fetch(`${base}/api/v1/devices/${deviceId}`, { headers: { cookie } })).json()) as { status: string };
    if (d.status === "online") break;
    if (i > 100) throw new Error("agent did not come online");
    await Bun.sleep(300);
  }
  const open = () => {
    const ws = new WebSocket(`${base.replace("http", "ws")}/api/v1/devices/${deviceId}/terminal`, {
      headers: { cookie },
    } as unknown as string[]);
    let out = "";
    const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
    ws.addEventListener("message", (e) => {
      const f = JSON.parse(String(e.data)) as { type: string; data?: string };
      if (f.type !== "output") return;
      out += f.data;
      for (const w of [...waiters]) {
        if (!w.test(out)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
    const until = (test: (s: string) => boolean) =>
      new Promise<void>((resolve) => (test(out) ? resolve() : waiters.push({ test, resolve })));
    return { ws, until, reset: () => (out = "") };
  };
  const opens: number[] = [];
  for (let i = 0; i < Number(opt.opens); i++) {
    const t0 = performance.now();
    const t = open();
    await t.until((s) => PROMPT.test(stripAnsi(s)));
    opens.push(performance.now() - t0);
    t.ws.close();
    await Bun.sleep(100);
  }
  const t = open();
  await t.until((s) => s.length > 0);
  await Bun.sleep(300);
  const echoes: number[] = [];
  for (let i = 0; i < Number(opt.keys); i++) {
    const ch = "abcdefghijklmnopqrstuvwxyz"[i % 26] ?? "a";
    t.reset();
    const t0 = performance.now();
    t.ws.send(JSON.stringify({ type: "input", data: ch }));
    await t.until((s) => s.includes(ch));
    echoes.push(performance.now() - t0);
    if (i % 50 === 49) t.ws.send(JSON.stringify({ type: "input", data: "\u0015" })); // ^U clears the line
  }
  t.ws.close();
  console.log(
    JSON.stringify({
      openToPromptMs: { p50: Number(pct(opens, 50).toFixed(1)), max: Number(Math.max(...opens).toFixed(1)), runs: opens.length },
      keystrokeEchoMs: { p50: Number(pct(echoes, 50).toFixed(2)), p99: Number(pct(echoes, 99).toFixed(2)), keys: echoes.length },
    }),
  );
} finally {
  agent?.kill();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
