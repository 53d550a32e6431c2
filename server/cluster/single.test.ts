import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freshDatabase } from "../testing/harness.ts";

const ROOT = resolve(import.meta.dir, "../..");

test("without SENTPULSE_NATS_URL a server process starts, answers and stops without loading any NATS module", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sentpulse-single-"));
  // a process of its own: this test runner has loaded NATS for the cluster tests
  const script = `
    const { startServer } = await import("./server/main.ts");
    const s = await startServer({ port: 0, host: "127.0.0.1", dataDir: ${JSON.stringify(dataDir)}, logLevel: "error" });
    const res = await fetch("http://127.0.0.1:" + s.port + "/readyz");
    const body = await res.json();
    const nats = Object.keys(require.cache).filter((k) => k.includes("@nats-io") || k.endsWith("/cluster/cluster.ts"));
    await s.stop();
    console.log(JSON.stringify({ status: res.status, body, nats }));
    process.exit(0);
  `;
  const p = Bun.spawn(["bun", "-e", script], {
    cwd: ROOT,
    env: { ...process.env, SENTPULSE_DATABASE_URL: await freshDatabase(), SENTPULSE_NATS_URL: "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = [await new Response(p.stdout).text(), await new Response(p.stderr).text()];
  expect(await p.exited).toBe(0);
  const line = out.trim().split("\n").at(-1) ?? "";
  if (!line.startsWith("{")) throw new Error(`no result: ${out}\n${err}`);
  const r = JSON.parse(line) as { status: number; body: Record<string, unknown>; nats: string[] };
  expect(r.status).toBe(200);
  expect(r.body.ok).toBe(true);
  expect(r.body.nats).toBeUndefined();
  expect(r.nats).toEqual([]);
  rmSync(dataDir, { recursive: true, force: true });
});
