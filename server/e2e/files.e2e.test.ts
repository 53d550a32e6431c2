import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * The file explorer against the real compiled agent on this machine (running as root, so its
 * unprivileged default is a real `nobody` worker): browsing, every change, path safety on both
 * ends, elevation, and what a viewer may do.
 */
let srv: TestServer;
let agent: EnrolledAgent;
let dir: string;

type Entry = { name: string; type: string; size: number; mode: number; owner: string; target?: string; targetType?: string };
const base = () => `/api/v1/devices/${agent.deviceId}/files`;
const json = async <T>(res: Response | Promise<Response>) => (await (await res).json()) as T;
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
const list = (path: string, extra = "") => srv.api(`${base()}?path=${encodeURIComponent(path)}${extra}`);
const op = (body: Record<string, unknown>) => srv.api(`${base()}/ops`, { body });
const audits = (action: string) =>
  srv.sql<{ actorName: string; details: Record<string, unknown> }[]>`
    select actor_name as "actorName", details from audit_log where action = ${action} and target_id = ${agent.deviceId} order by id`;

beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: 2 });
  agent = await enrollRealAgent(srv);
  agent.start();
  await waitFor(
    "online",
    async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
    30_000,
  );
  // a directory the unprivileged worker (nobody) may write in, like /tmp itself
  dir = mkdtempSync("/tmp/sp-files-");
  chmodSync(dir, 0o777);
  writeFileSync(join(dir, "notes.txt"), "hello files\n");
  writeFileSync(join(dir, ".hidden"), "h");
  mkdirSync(join(dir, "logs"));
  chmodSync(join(dir, "logs"), 0o777);
  for (let i = 0; i < 3; i++) writeFileSync(join(dir, "logs", `app-${i}.log`), "x".repeat(100 * (i + 1)));
  symlinkSync("/etc", join(dir, "etc-link"));
  symlinkSync("/etc/hostname", join(dir, "hostname-link"));
  symlinkSync("notes.txt", join(dir, "notes-link"));
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  await srv?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("browsing with the real agent", () => {
  test("lists a directory with size, mode, owner; hidden entries only when asked; symlinks as links with their target", async () => {
    const res = await list(dir);
    expect(res.status).toBe(200);
    const body = await json<{ path: string; items: Entry[]; runAs: string }>(res);
    expect(body.runAs).toBe("nobody");
    const byName = Object.fromEntries(body.items.map((e) => [e.name, e]));
    expect(byName["notes.txt"]).toMatchObject({ type: "file", size: 12, owner: "root", mode: 0o644 });
    expect(byName.logs).toMatchObject({ type: "dir", mode: 0o777 });
    expect(byName["etc-link"]).toMatchObject({ type: "link", target: "/etc", targetType: "dir" });
    expect(byName[".hidden"]).toBeUndefined();
    const hidden = await json<{ items: Entry[] }>(list(dir, "&hidden=true"));
    expect(hidden.items.some((e) => e.name === ".hidden")).toBe(true);
  });

  test("properties of one entry (a link's own, with its resolved path) and a recursive count", async () => {
    const st = await json<{ realPath: string; entry: Entry; uid: number }>(
      srv.api(`${base()}/stat?path=${encodeURIComponent(join(dir, "notes-link"))}`),
    );
    expect(st.entry.type).toBe("link");
    expect(st.realPath).toBe(join(dir, "notes.txt"));
    const count = await json<{ files: number; dirs: number; bytes: number }>(
      srv.api(`${base()}/count?path=${encodeURIComponent(join(dir, "logs"))}`),
    );
    expect(count).toEqual({ files: 3, dirs: 1, links: 0, bytes: 600 } as never);
  });
});

describe("changes with the real agent, each audited with its actor, path and outcome", () => {
  test("mkdir, rename, copy (a tree), chmod, delete recursive answering its count", async () => {
    expect((await op({ op: "mkdir", path: join(dir, "new") })).status).toBe(200);
    expect(statSync(join(dir, "new")).isDirectory()).toBe(true);
    expect(statSync(join(dir, "new")).uid).toBe(65534); // made by the unprivileged worker
    expect((await op({ op: "rename", path: join(dir, "new"), to: join(dir, "renamed") })).status).toBe(200);
    expect(existsSync(join(dir, "renamed"))).toBe(true);
    const copied = await json<{ entries: number }>(op({ op: "copy", path: join(dir, "logs"), to: join(dir, "renamed", "logs-copy") }));
    expect(copied.entries).toBe(4);
    expect(readFileSync(join(dir, "renamed", "logs-copy", "app-2.log"), "utf8")).toBe("x".repeat(300));
    expect((await op({ op: "chmod", path: join(dir, "renamed", "logs-copy", "app-0.log"), mode: 0o600 })).status).toBe(200);
    expect(statSync(join(dir, "renamed", "logs-copy", "app-0.log")).mode & 0o777).toBe(0o600);
    const exists = await op({ op: "mkdir", path: join(dir, "renamed") });
    expect(exists.status).toBe(409);
    expect(await errorCode(exists)).toBe("FILE_EXISTS");
    const notEmpty = await op({ op: "delete", path: join(dir, "renamed") });
    expect(await errorCode(notEmpty)).toBe("NOT_EMPTY");
    const deleted = await json<{ entries: number }>(op({ op: "delete", path: join(dir, "renamed"), recursive: true }));
    expect(deleted.entries).toBe(5); // renamed, logs-copy and its three logs
    expect(existsSync(join(dir, "renamed"))).toBe(false);
    const [mk] = await audits("file.mkdir");
    expect(mk).toMatchObject({ actorName: "admin@example.com", details: { path: join(dir, "new"), outcome: "ok", elevated: false } });
    expect((await audits("file.delete")).map((a) => a.details.outcome)).toEqual(["NOT_EMPTY", "ok"]);
  });

  test("deleting a symlink removes the link, never its target", async () => {
    const link = join(dir, "etc-link2");
    symlinkSync("/etc", link);
    expect((await op({ op: "delete", path: link, recursive: true })).status).toBe(200);
    expect(existsSync(link)).toBe(false);
    expect(existsSync("/etc/hostname")).toBe(true);
  });
});

describe("path safety on both ends", () => {
  test("`..` segments, NUL and control characters, relative paths → 422 before the device is asked; nothing touched", async () => {
    const before = (await srv.sql`select count(*)::int as n from audit_log`)[0]?.n;
    for (const bad of [
      `${dir}/../etc`,
      `${dir}/..`,
      "../etc/passwd",
      "etc/passwd",
      `${dir}/a\u0000b`,
      `${dir}/a\nb`,
      `${dir}/a\u001bb`,
      "C:\\x\\..\\y",
      "",
    ]) {
      const l = await list(bad);
      expect([bad, l.status]).toEqual([bad, 422]);
      const m = await op({ op: "mkdir", path: bad });
      expect([bad, m.status]).toEqual([bad, 422]);
      expect(await errorCode(m)).toBe("VALIDATION_FAILED");
      const r = await op({ op: "rename", path: join(dir, "notes.txt"), to: bad });
      expect([bad, r.status]).toEqual([bad, 422]);
    }
    const d = await srv.api(`${base()}/download?path=${encodeURIComponent(`${dir}/../etc/shadow`)}`);
    expect(d.status).toBe(422);
    for (const route of ["download", "stat", "count"]) expect((await srv.api(`${base()}/${route}`)).status).toBe(422);
    expect((await srv.sql`select count(*)::int as n from audit_log`)[0]?.n).toBe(before);
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("hello files\n");
  });

  test("a symlink leading out of its directory is not followed: listing, reading or chmod through it → 403 SYMLINK_ESCAPE", async () => {
    const l = await list(join(dir, "etc-link"));
    expect(l.status).toBe(403);
    expect(await errorCode(l)).toBe("SYMLINK_ESCAPE");
    const modeBefore = statSync("/etc/hostname").mode;
    const c = await op({ op: "chmod", path: join(dir, "hostname-link"), mode: 0o777, elevated: false });
    expect(await errorCode(c)).toBe("SYMLINK_ESCAPE");
    expect(statSync("/etc/hostname").mode).toBe(modeBefore);
    const d = await srv.api(`${base()}/download?path=${encodeURIComponent(join(dir, "hostname-link"))}`);
    expect(d.status).toBe(409);
    // a link inside its own directory is followed
    expect((await list(dir)).status).toBe(200);
  });

  test("the agent checks file frames itself: a path that skipped the server's checks is refused, nothing is created", async () => {
    const marker = join(dir, "..", `sp-escape-${crypto.randomUUID().slice(0, 8)}`);
    const r = await srv.server.services.agents.call(
      agent.deviceId,
      { type: "files", data: { op: "mkdir", path: `${dir}/../${marker.split("/").at(-1)}`, elevated: false } } as never,
      3000,
    );
    expect(r.ok).toBe(false);
    expect(existsSync(marker)).toBe(false);
  });
});

describe("unprivileged by default, elevation with its own permission and a reason", () => {
  test("an unelevated session cannot read /root or write /etc (403 FILE_PERMISSION_DENIED)", async () => {
    const root = await list("/root");
    expect(root.status).toBe(403);
    expect(await errorCode(root)).toBe("FILE_PERMISSION_DENIED");
    const etc = await op({ op: "mkdir", path: `/etc/sp-${crypto.randomUUID().slice(0, 8)}` });
    expect(etc.status).toBe(403);
    const dl = await srv.api(`${base()}/download?path=/etc/shadow`);
    expect(dl.status).toBe(403);
  });

  test("elevated without an elevation → 409; with one (reason, audited) → /root is listed as root; ending it ends it", async () => {
    const early = await list("/root", "&elevated=true");
    expect(early.status).toBe(409);
    expect(await errorCode(early)).toBe("ELEVATION_REQUIRED");
    const noReason = await srv.api(`${base()}/elevation`, { body: { reason: "" } });
    expect(noReason.status).toBe(422);
    const e = await srv.api(`${base()}/elevation`, { body: { reason: "read root's crontab for ticket 4711" } });
    expect(e.status).toBe(201);
    const listed = await json<{ runAs: string }>(list("/root", "&elevated=true"));
    expect(listed.runAs).toBe("root");
    const [audit] = await audits("file.elevate");
    expect(audit).toMatchObject({ actorName: "admin@example.com", details: { reason: "read root's crontab for ticket 4711" } });
    expect((await srv.api(`${base()}/elevation`, { method: "DELETE" })).status).toBe(200);
    expect((await list("/root", "&elevated=true")).status).toBe(409);
  });

  test("a viewer (readonly API key) cannot browse or write at all: 403 with nothing run", async () => {
    const key = (await json<{ key: string }>(srv.api("/api/v1/api-keys", { body: { name: "ro", role: "readonly" } }))).key;
    const as = (path: string, body?: unknown) =>
      srv.server.app.handle(
        new Request(`${srv.url}${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    const target = join(dir, "viewer-was-here");
    expect((await as(`${base()}/ops`, { op: "mkdir", path: target })).status).toBe(403);
    expect((await as(`${base()}?path=${encodeURIComponent(dir)}`)).status).toBe(403);
    expect((await as(`${base()}/elevation`, { reason: "just looking around" })).status).toBe(403);
    expect(existsSync(target)).toBe(false);
    expect(lstatSync(dir).isDirectory()).toBe(true);
  });
});
