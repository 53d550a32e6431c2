/**
 * Where an idle compiled Bun program's memory goes: builds tiny programs that each add one thing to
 * a bare 5 s timer, runs each alone, and prints its RSS after `--settle` seconds.
 *
 *   bun scripts/bench-probes.ts --settle 4
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({ options: { settle: { type: "string", default: "4" } } });
const timer = "setInterval(() => {}, 5000);";
const agent = `import { Pulse } from "../../agent/transport/pulse.ts"; import { currentPlatform } from "../../agent/platform/index.ts"; console.log(typeof Pulse, typeof currentPlatform());`;
const probes: Record<string, string> = {
  "bare 5 s timer": timer,
  "+ readFileSync": `import { readFileSync } from "node:fs"; readFileSync("/proc/loadavg", "utf8"); ${timer}`,
  "+ WebSocket": `const w = new WebSocket("ws://127.0.0.1:9"); w.onerror = () => {}; ${timer}`,
  "+ fetch": `fetch("http://127.0.0.1:9").catch(() => {}); ${timer}`,
  "+ node:crypto HMAC": `import { createHmac } from "node:crypto"; createHmac("sha256", "k").update("x").digest("hex"); ${timer}`,
  "+ Bun.CryptoHasher HMAC": `new Bun.CryptoHasher("sha256", "k").update("x").digest("hex"); ${timer}`,
  "+ Bun.file().text()": `await Bun.file("/proc/loadavg").text(); ${timer}`,
  "+ valibot schema": `import * as v from "valibot"; v.parse(v.object({ a: v.string() }), { a: "x" }); ${timer}`,
  "+ arktype schema": `import { type } from "arktype"; type({ a: "string" })({ a: "x" }); ${timer}`,
  "+ @elysiajs/eden": `import { treaty } from "@elysiajs/eden"; console.log(typeof treaty); ${timer}`,
  "agent modules (pulse + platform)": `${agent} ${timer}`,
  // what each lazily loaded part would cost the idle agent if it were loaded eagerly
  "  + the wire schemas, every frame": `${agent} import { parseServerFrame } from "../../agent/wire.ts"; parseServerFrame({}); ${timer}`,
  "  + executor": `${agent} import { Executor } from "../../agent/executor/executor.ts"; console.log(typeof Executor); ${timer}`,
  "  + terminal sessions (not bun-pty)": `${agent} import { TerminalSessions } from "../../agent/terminal/sessions.ts"; console.log(typeof TerminalSessions); ${timer}`,
  "  + toolbox": `${agent} import { handleToolbox } from "../../agent/toolbox/index.ts"; import { linuxToolbox } from "../../agent/platform/linux-toolbox.ts"; console.log(typeof handleToolbox, typeof linuxToolbox); ${timer}`,
  "  + patch": `${agent} import { handlePatch } from "../../agent/patch/index.ts"; import { linuxPatch } from "../../agent/platform/linux-patch.ts"; console.log(typeof handlePatch, typeof linuxPatch); ${timer}`,
  "  + file explorer": `${agent} import { handleFiles } from "../../agent/files/index.ts"; console.log(typeof handleFiles); ${timer}`,
  "  + systeminformation": `${agent} import si from "systeminformation"; console.log(typeof si); ${timer}`,
  // the idle agent's own remedy (agent/footprint.ts): JIT policy and the executable's pages released
  "  + JIT policy 100, pages released at 2 s": `${agent} import { releaseExecutablePages } from "../../agent/platform/linux-pages.ts"; Bun.unsafe.setJITPolicy(100); setTimeout(() => void releaseExecutablePages(), 2000); ${timer}`,
};

const dir = mkdtempSync(join(import.meta.dir, ".probes-"));
try {
  for (const [name, code] of Object.entries(probes)) {
    const src = join(dir, "probe.ts");
    writeFileSync(src, code);
    const out = join(dir, "probe");
    const build = Bun.spawnSync(["bun", "build", src, "--compile", "--minify", "--outfile", out], { stdout: "ignore", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`${name}: ${build.stderr.toString()}`);
    const p = Bun.spawn([out], { stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(Number(opt.settle) * 1000);
    const rss = /VmRSS:\s+(\d+) kB/.exec(await Bun.file(`/proc/${p.pid}/status`).text())?.[1];
    p.kill();
    await p.exited;
    console.log(`${name.padEnd(44)} ${(Number(rss) / 1024).toFixed(1)} MB`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
