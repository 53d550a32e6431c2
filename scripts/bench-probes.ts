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
  "agent modules (pulse + platform)": `import { Pulse } from "../../agent/transport/pulse.ts"; import { currentPlatform } from "../../agent/platform/index.ts"; console.log(typeof Pulse, typeof currentPlatform()); ${timer}`,
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
    console.log(`${name.padEnd(36)} ${(Number(rss) / 1024).toFixed(1)} MB`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
