import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "../../db/embedded.ts";
import { ADMIN, waitFor } from "./harness.ts";

const ROOT = resolve(import.meta.dir, "../..");

/** Keeps the last `max` characters a process wrote (stdout and stderr), for failures and log checks. */
function capture(p: Subprocess, max = 200_000): () => string {
  let text = "";
  const drain = async (s: ReadableStream<Uint8Array> | null | undefined | number) => {
    if (!s || typeof s === "number") return;
    for await (const chunk of s) text = (text + new TextDecoder().decode(chunk)).slice(-max);
  };
  void drain(p.stdout as ReadableStream<Uint8Array>);
  void drain(p.stderr as ReadableStream<Uint8Array>);
  return () => text;
}

async function portOpen(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

/** Debian's nats-server with JetStream on a free loopback port; its store survives `restart()`. */
export async function startNats(dir: string) {
  const port = freePort();
  const store = join(dir, "nats-store");
  mkdirSync(store, { recursive: true });
  let proc: Subprocess | undefined;
  let output = () => "";
  const start = async () => {
    proc = Bun.spawn(["nats-server", "-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store], { stdout: "pipe", stderr: "pipe" });
    output = capture(proc);
    await waitFor("nats-server listening", () => portOpen(port), 15_000, 50);
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    output: () => output(),
    async stop() {
      proc?.kill("SIGTERM");
      await proc?.exited;
      proc = undefined;
    },
    /** Stopped, then started again on the same port with the same JetStream store. */
    async restart(downMs = 0) {
      await this.stop();
      await Bun.sleep(downMs);
      await start();
    },
  };
}

/**
 * A TCP relay between one server node and NATS (the network between them): `cut()` drops its
 * connections and refuses new ones, as a firewall rejecting the port would; `restore()` lets them in.
 */
export function natsLink(target: number) {
  const port = freePort();
  const open = new Set<{ end(): void }>();
  type Pair = { peer?: import("bun").Socket<Pair>; pending: Uint8Array[] };
  let listener: import("bun").TCPSocketListener<Pair> | undefined;
  const listen = () => {
    listener = Bun.listen<Pair>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          client.data = { pending: [] };
          open.add(client);
          void Bun.connect<Pair>({
            hostname: "127.0.0.1",
            port: target,
            socket: {
              open(upstream) {
                upstream.data = { peer: client, pending: [] };
                client.data.peer = upstream;
                open.add(upstream);
                for (const chunk of client.data.pending) upstream.write(chunk);
                client.data.pending = [];
              },
              data(upstream, chunk) {
                upstream.data.peer?.write(chunk);
              },
              close(upstream) {
                open.delete(upstream);
                upstream.data.peer?.end();
              },
              error(upstream) {
                upstream.data.peer?.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (client.data.peer) client.data.peer.write(chunk);
          else client.data.pending.push(new Uint8Array(chunk));
        },
        close(client) {
          open.delete(client);
          client.data.peer?.end();
        },
      },
    });
  };
  listen();
  return {
    url: `nats://127.0.0.1:${port}`,
    cut() {
      listener?.stop(true);
      listener = undefined;
      for (const s of open) s.end();
      open.clear();
    },
    restore() {
      if (!listener) listen();
    },
  };
}

export interface Node {
  name: string;
  url: string;
  port: number;
  proc: Subprocess;
  log(): string;
  readyz(): Promise<{ ok: boolean; agentsConnected: number; nats?: { connected: boolean; nodes: number; duties: string[] } } | undefined>;
  /** SIGKILL: the node dies without a word. */
  kill(): Promise<void>;
  /** SIGTERM: graceful shutdown (sockets drained). */
  stop(): Promise<void>;
}

/** One shared secret key: cookies signed on one node are read on another, channel secrets sealed alike. */
const SECRET_KEY = Buffer.alloc(32, 7).toString("base64");

/** A real server process (`bun server/main.ts`) of the cluster on a free loopback port. */
export async function startNode(
  name: string,
  o: { dir: string; databaseUrl: string; natsUrl: string; env?: Record<string, string> },
): Promise<Node> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = Bun.spawn(["bun", "server/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      SENTPULSE_DATABASE_URL: o.databaseUrl,
      SENTPULSE_NATS_URL: o.natsUrl,
      SENTPULSE_PORT: String(port),
      SENTPULSE_HOST: "127.0.0.1",
      SENTPULSE_DATA_DIR: join(o.dir, `data-${name}`),
      SENTPULSE_SECRET_KEY: SECRET_KEY,
      SENTPULSE_ADMIN_EMAIL: ADMIN.email,
      SENTPULSE_ADMIN_PASSWORD: ADMIN.password,
      SENTPULSE_AGENT_DIST_DIR: join(ROOT, "dist/agent"),
      SENTPULSE_LOG_LEVEL: "info",
      SENTPULSE_TRUSTED_PROXIES: "loopback",
      ...o.env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const log = capture(proc);
  const readyz = async () => {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    return res ? ((await res.json()) as Awaited<ReturnType<Node["readyz"]>>) : undefined;
  };
  await waitFor(`node ${name} ready`, async () => (await readyz())?.ok === true, 60_000, 200).catch((err) => {
    throw new Error(`${(err as Error).message}\n${log().slice(-3000)}`);
  });
  return {
    name,
    url,
    port,
    proc,
    log,
    readyz,
    async kill() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/**
 * Debian's HAProxy in front of the nodes on a free loopback port: round robin, no stickiness,
 * WebSockets passed through, a node taken out while its `/readyz` fails (NATS lost, database gone).
 */
export async function startHaproxy(dir: string, nodes: { name: string; port: number }[], port = freePort()) {
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(
    cfg,
    [
      "global",
      "  maxconn 4096",
      "defaults",
      "  mode http",
      "  timeout connect 2s",
      "  timeout client 120s",
      "  timeout server 120s",
      "  timeout tunnel 1h",
      "  timeout check 5s",
      // as in docker-compose.cluster.yml: the nodes take the client's address from it (SENTPULSE_TRUSTED_PROXIES)
      "  option forwardfor",
      "frontend sentpulse",
      `  bind 127.0.0.1:${port}`,
      "  default_backend nodes",
      "backend nodes",
      "  balance roundrobin",
      // a node that refuses (stopping, just killed) costs a retry on another node, not an error
      "  retries 3",
      "  option redispatch 1",
      "  option httpchk",
      "  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host sentpulse",
      "  http-check expect status 200",
      "  default-server inter 1s fall 2 rise 1",
      ...nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.port} check`),
      "",
    ].join("\n"),
  );
  const proc = Bun.spawn(["haproxy", "-f", cfg, "-db"], { stdout: "pipe", stderr: "pipe" });
  const output = capture(proc);
  await waitFor("haproxy listening", () => portOpen(port), 15_000, 50).catch((err) => {
    throw new Error(`${(err as Error).message}\n${output()}`);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    output,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
