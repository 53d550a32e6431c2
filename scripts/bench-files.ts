/**
 * File transfer throughput and memory, with the real compiled agent enrolled against a local server
 * process (embedded PostgreSQL), everything on loopback:
 *  1. baseline: `curl` of the file from a static HTTP server (python3 -m http.server) on the same disk;
 *  2. download: `curl` of GET /api/v1/devices/:id/files/download (device → server in acknowledged
 *     chunks over the agent's socket, staged, streamed on to curl), SHA-256 checked;
 *  3. upload (with `--upload`): the same file through tus (1 MiB PATCHes by fetch) and on to the device,
 *     until the transfer is done, SHA-256 checked.
 * Peak RSS of the server, the agent and the agent's file worker are sampled every 100 ms during each.
 *
 *   bun scripts/bench-files.ts [--size-mb 1024] [--upload]
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../db/embedded.ts";
import { startBenchServer } from "./lib/bench-server.ts";
import { descendants } from "./lib/proc.ts";

const { values: opt } = parseArgs({
  options: {
    "size-mb": { type: "string", default: "1024" },
    upload: { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
  },
});
const size = Number(opt["size-mb"]) * 1024 * 1024;
const AGENT = process.env.SENTPULSE_AGENT_BINARY ?? "dist/agent/sentpulse-agent-linux-x64";
if (!opt["no-build"]) {
  const p = Bun.spawnSync(["scripts/build-agents", "linux-x64"], { stdout: "ignore", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(p.stderr.toString());
}

const dir = mkdtempSync("/tmp/sentpulse-filesbench-");
const file = join(dir, "big.bin");
// random content (written in 8 MiB pieces, synchronously: a buffer handed to an async writer must not be refilled)
{
  const fd = openSync(file, "w");
  const piece = new Uint8Array(8 * 1024 * 1024);
  for (let done = 0; done < size; done += piece.length) {
    for (let i = 0; i < piece.length; i += 65_536) crypto.getRandomValues(piece.subarray(i, i + 65_536));
    writeSync(fd, piece, 0, Math.min(piece.length, size - done));
  }
  fsyncSync(fd);
  closeSync(fd);
}
Bun.spawnSync(["chmod", "0777", dir]);
Bun.spawnSync(["chmod", "0644", file]);
const expected = Bun.spawnSync(["sha256sum", file]).stdout.toString().split(" ")[0];

const rssOf = (pid: number) => {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};
/** Peak RSS (MB) of each named process set while `fn` runs, sampled every 100 ms. */
async function peaks<T>(sets: Record<string, () => number[]>, fn: () => Promise<T>): Promise<{ result: T; peak: Record<string, number> }> {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(sets).map((k) => [k, 0]));
  const timeline: string[] = [];
  let ticks = 0;
  const timer = setInterval(() => {
    for (const [k, pids] of Object.entries(sets))
      peak[k] = Math.max(
        peak[k] ?? 0,
        pids().reduce((n, p) => n + rssOf(p), 0),
      );
    if (process.env.BENCH_TIMELINE && ticks++ % 10 === 0)
      timeline.push(
        Object.entries(sets)
          .map(
            ([k, pids]) =>
              `${k}=${pids()
                .reduce((n, p) => n + rssOf(p), 0)
                .toFixed(0)}`,
          )
          .join(" "),
      );
  }, 100);
  try {
    return { result: await fn(), peak };
  } finally {
    clearInterval(timer);
    if (process.env.BENCH_TIMELINE) console.error(timeline.join("\n"));
  }
}
const curl = async (url: string, headers: string[] = []) => {
  const t0 = performance.now();
  // async: the RSS sampler keeps running meanwhile
  const p = Bun.spawn(["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}", ...headers.flatMap((h) => ["-H", h]), url], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`curl failed: ${err}`);
  return { seconds: (performance.now() - t0) / 1000, bytes: Number(out) };
};
const mbps = (bytes: number, s: number) => Number((bytes / 2 ** 20 / s).toFixed(1));

const server = await startBenchServer({ SENTPULSE_TELEMETRY_INTERVAL_S: "30" });
const agentDir = mkdtempSync(join(tmpdir(), "sentpulse-filesbench-agent-"));
let agent: Bun.Subprocess | undefined;
let staticServer: Bun.Subprocess | undefined;
try {
  const { base, cookie } = server;
  const { token } = (await (
    await fetch(`${base}/api/v1/enrollment-tokens`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: "{}" })
  ).json()) as { token: string };
  const config = join(agentDir, "agent.json");
  if (Bun.spawnSync([AGENT, "enroll", "--server", base, "--token", token, "--config", config]).exitCode !== 0)
    throw new Error("enroll failed");
  const deviceId = (JSON.parse(readFileSync(config, "utf8")) as { deviceId: string }).deviceId;
  agent = Bun.spawn([AGENT, "run", "--config", config], { stdout: "ignore", stderr: "ignore" });
  for (let i = 0; ; i++) {
    const d = (await (await fetch(`${base}/api/v1/devices/${deviceId}`, { headers: { cookie } })).json()) as { status: string };
    if (d.status === "online") break;
    if (i > 120) throw new Error("agent did not come online");
    await Bun.sleep(500);
  }
  const agentPid = agent.pid;
  const sets = {
    server: () => [server.pid],
    agent: () => [agentPid],
    worker: () => descendants(agentPid),
  };

  // 1. a static HTTP server and curl
  const port = freePort();
  staticServer = Bun.spawn(["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir], {
    stdout: "ignore",
    stderr: "ignore",
  });
  for (let i = 0; !(await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.ok; i++) {
    if (i > 50) throw new Error("static server did not start");
    await Bun.sleep(100);
  }
  const plain = await curl(`http://127.0.0.1:${port}/big.bin`);

  // 2. the same file through the agent and the server
  const dl = await peaks(sets, async () =>
    curl(`${base}/api/v1/devices/${deviceId}/files/download?path=${encodeURIComponent(file)}`, [`cookie: ${cookie}`]),
  );
  // curl has every byte once they are staged; the transfer turns done after both hashes were compared
  let t: { direction: string; state: string; sha256: string | null; wireBytes: number } | undefined;
  for (let i = 0; i < 100 && t?.state !== "done" && t?.state !== "failed"; i++) {
    if (i > 0) await Bun.sleep(100);
    const transfers = (await (await fetch(`${base}/api/v1/devices/${deviceId}/files/transfers`, { headers: { cookie } })).json()) as {
      items: NonNullable<typeof t>[];
    };
    t = transfers.items.find((x) => x.direction === "download");
  }
  const out: Record<string, unknown> = {
    sizeMB: size / 2 ** 20,
    load: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
    curlStatic: { seconds: Number(plain.seconds.toFixed(2)), MBps: mbps(plain.bytes, plain.seconds) },
    download: {
      seconds: Number(dl.result.seconds.toFixed(2)),
      MBps: mbps(dl.result.bytes, dl.result.seconds),
      ratioToCurl: Number((plain.seconds / dl.result.seconds).toFixed(3)),
      sha256Equal: t?.sha256 === expected,
      state: t?.state,
      peakRssMB: Object.fromEntries(Object.entries(dl.peak).map(([k, v]) => [k, Number(v.toFixed(1))])),
    },
  };

  // 3. upload through tus, then to the device
  if (opt.upload) {
    const target = join(dir, "uploaded.bin");
    const up = await peaks(sets, async () => {
      const t0 = performance.now();
      const created = await fetch(`${base}/api/v1/devices/${deviceId}/files/uploads`, {
        method: "POST",
        headers: {
          cookie,
          origin: base,
          "tus-resumable": "1.0.0",
          "upload-length": String(size),
          "upload-metadata": `path ${Buffer.from(target).toString("base64")}`,
        },
      });
      const location = created.headers.get("location");
      const src = Bun.file(file);
      let id = "";
      for (let at = 0; at < size; at += 1_048_576) {
        const res = await fetch(`${base}${location}`, {
          method: "PATCH",
          headers: {
            cookie,
            origin: base,
            "tus-resumable": "1.0.0",
            "upload-offset": String(at),
            "content-type": "application/offset+octet-stream",
          },
          body: src.slice(at, Math.min(size, at + 1_048_576)),
        });
        if (res.status !== 204) throw new Error(`PATCH ${res.status}`);
        id = res.headers.get("x-transfer-id") ?? id;
      }
      const toServer = (performance.now() - t0) / 1000;
      for (;;) {
        const x = (await (await fetch(`${base}/api/v1/files/transfers/${id}`, { headers: { cookie } })).json()) as {
          state: string;
          sha256: string;
        };
        if (x.state === "done" || x.state === "failed") return { toServer, total: (performance.now() - t0) / 1000, x };
        await Bun.sleep(100);
      }
    });
    const sha = Bun.spawnSync(["sha256sum", target]).stdout.toString().split(" ")[0];
    out.upload = {
      toServerSeconds: Number(up.result.toServer.toFixed(2)),
      totalSeconds: Number(up.result.total.toFixed(2)),
      MBps: mbps(size, up.result.total),
      ratioToCurl: Number((plain.seconds / up.result.total).toFixed(3)),
      state: up.result.x.state,
      sha256Equal: sha === expected && up.result.x.sha256 === expected,
      ...(sha === expected && up.result.x.sha256 === expected ? {} : { expected, onDevice: sha, reported: up.result.x.sha256 }),
      peakRssMB: Object.fromEntries(Object.entries(up.peak).map(([k, v]) => [k, Number(v.toFixed(1))])),
    };
  }
  console.log(JSON.stringify(out, null, 2));
} finally {
  staticServer?.kill();
  agent?.kill("SIGTERM");
  await agent?.exited;
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(agentDir, { recursive: true, force: true });
}
