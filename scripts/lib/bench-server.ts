import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../db/embedded.ts";

export const BENCH_ADMIN = { SENTPULSE_ADMIN_EMAIL: "bench@example.com", SENTPULSE_ADMIN_PASSWORD: "bench-password" };

/**
 * A server process of its own for a benchmark: fresh data directory (embedded PostgreSQL),
 * loopback port, an admin signed in. `stop()` ends it and removes the data. `port` reuses a port
 * (a restart), `logFile` receives its log instead of the console.
 */
export async function startBenchServer(env: Record<string, string> = {}, o: { port?: number; logFile?: string } = {}) {
  const port = o.port ?? freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "sentpulse-bench-"));
  // BENCH_SERVER_BUN_FLAGS: runtime flags for the server, e.g. "--cpu-prof-md --cpu-prof-dir=/tmp/prof" (written when it stops)
  const flags = (process.env.BENCH_SERVER_BUN_FLAGS ?? "").split(" ").filter(Boolean);
  const proc = Bun.spawn(["bun", ...flags, "server/main.ts"], {
    env: {
      ...process.env,
      ...BENCH_ADMIN,
      SENTPULSE_PORT: String(port),
      SENTPULSE_HOST: "127.0.0.1",
      SENTPULSE_DATA_DIR: dataDir,
      SENTPULSE_LOG_LEVEL: "warn",
      ...env,
    },
    stdout: "ignore",
    stderr: o.logFile ? Bun.file(o.logFile) : "inherit",
  });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; !(await fetch(`${base}/readyz`).catch(() => undefined))?.ok; i++) {
      if (i > 120) throw new Error("server did not become ready");
      await Bun.sleep(500);
    }
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: BENCH_ADMIN.SENTPULSE_ADMIN_EMAIL, password: BENCH_ADMIN.SENTPULSE_ADMIN_PASSWORD }),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    return { base, port, pid: proc.pid, cookie, stop, exited: proc.exited };
  } catch (err) {
    await stop();
    throw err;
  }
}
