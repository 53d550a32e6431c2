/**
 * The device list filtered by a smart group over HTTP: a server of its own filled with `--devices`
 * devices by scripts/loadgen (enrolled and reporting), two groups (every Linux device; hostnames
 * ending in "0", about a sixteenth), then `--requests` sequential first pages of 100 for each:
 * GET /api/v1/devices (unfiltered, the baseline), GET /api/v1/devices?groupId=, GET /api/v1/groups/:id/devices.
 *
 *   bun scripts/bench-groups-api.ts --devices 10000 --requests 200
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { BENCH_ADMIN, startBenchServer } from "./lib/bench-server.ts";

const { values: opt } = parseArgs({
  options: { devices: { type: "string", default: "10000" }, requests: { type: "string", default: "200" } },
});
const ms = (t: number) => Number(t.toFixed(2));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

const server = await startBenchServer();
try {
  const loadgen = Bun.spawn(
    ["bun", "scripts/loadgen.ts", "--server", server.base, "--agents", opt.devices, "--duration", "5", "--interval", "5", "--json"],
    { env: { ...process.env, ...BENCH_ADMIN }, stdout: "ignore", stderr: "inherit" },
  );
  if ((await loadgen.exited) !== 0) throw new Error("loadgen failed");
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.base}${path}`, { ...init, headers: { cookie: server.cookie, "content-type": "application/json" } });
  const group = async (name: string, expression: string) => {
    const res = await api("/api/v1/groups", { method: "POST", body: JSON.stringify({ name, expression }) });
    if (res.status !== 201) throw new Error(`group: ${res.status} ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    // membership is worked out after the answer: wait until the count stops changing
    let last = -1;
    for (let i = 0; i < 120; i++) {
      await Bun.sleep(1000);
      const got = await api(`/api/v1/groups/${id}`);
      if (got.status !== 200) throw new Error(`group ${id}: ${got.status} ${await got.text()}`);
      const { memberCount } = (await got.json()) as { memberCount: number };
      if (memberCount === last && memberCount > 0) return { id, members: memberCount };
      last = memberCount;
    }
    throw new Error(`group ${name} did not settle`);
  };
  const all = await group("every linux device", 'os = "linux"');
  const some = await group("ending in 0", 'hostname ~ "0$"');
  console.log(JSON.stringify({ loadavgAtStart: loadavg().map(ms), devices: Number(opt.devices) }));
  const measure = async (label: string, path: string, members?: number) => {
    const times: number[] = [];
    for (let i = 0; i < Number(opt.requests); i++) {
      const t0 = performance.now();
      const res = await api(path);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      times.push(performance.now() - t0);
    }
    console.log(JSON.stringify({ run: label, members, p50ms: ms(quantile(times, 0.5)), p99ms: ms(quantile(times, 0.99)) }));
  };
  await measure("GET /api/v1/devices?limit=100 (no filter)", "/api/v1/devices?limit=100");
  await measure("GET /api/v1/devices?groupId=&limit=100 (every linux device)", `/api/v1/devices?groupId=${all.id}&limit=100`, all.members);
  await measure(
    "GET /api/v1/devices?groupId=&limit=100 (hostnames ending in 0)",
    `/api/v1/devices?groupId=${some.id}&limit=100`,
    some.members,
  );
  await measure("GET /api/v1/groups/:id/devices?limit=100 (every linux device)", `/api/v1/groups/${all.id}/devices?limit=100`, all.members);
  console.log(JSON.stringify({ loadavgAtEnd: loadavg().map(ms) }));
} finally {
  await server.stop();
}
