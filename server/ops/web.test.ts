import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { contentSecurityPolicy } from "./headers.ts";
import { staticFile } from "./static.ts";

/**
 * The dashboard's files as the server hands them out: only files inside the web directory, the SPA
 * fallback, and the security headers on every response (HSTS only behind an https public URL).
 */
let root: string;
let srv: TestServer;
let https: TestServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "sentpulse-web-"));
  mkdirSync(join(root, "dist/assets"), { recursive: true });
  mkdirSync(join(root, "dist-x"));
  writeFileSync(join(root, "dist/index.html"), "<!doctype html><title>dashboard</title>");
  writeFileSync(join(root, "dist/assets/app.js"), "console.log('app');");
  writeFileSync(join(root, "dist-x/secret.txt"), "not for the web");
  writeFileSync(join(root, "outside.txt"), "not for the web either");
  const webDistDir = join(root, "dist");
  srv = await startTestServer({ webDistDir });
  https = await startTestServer({ webDistDir, publicUrl: "https://rmm.example.com" });
}, 120_000);

afterAll(async () => {
  await srv?.stop();
  await https?.stop();
  rmSync(root, { recursive: true, force: true });
});

const handle = (s: TestServer, path: string) => s.server.app.handle(new Request(`http://localhost${path}`));

describe("static files", () => {
  test("a file of the web directory is served; a path the dashboard routes gets index.html", async () => {
    expect(await (await handle(srv, "/assets/app.js")).text()).toBe("console.log('app');");
    expect(await (await handle(srv, "/devices/123")).text()).toContain("<title>dashboard</title>");
  });

  test("staticFile finds only files inside the web directory, not in a sibling sharing its name's prefix", () => {
    const dir = join(root, "dist");
    expect(staticFile(dir, "assets/app.js")).toBe(join(dir, "assets/app.js"));
    expect(staticFile(dir, "../dist-x/secret.txt")).toBeNull();
    expect(staticFile(dir, "../outside.txt")).toBeNull();
    expect(staticFile(dir, join(root, "dist-x/secret.txt"))).toBeNull();
    expect(staticFile(dir, "")).toBeNull();
    expect(staticFile(dir, "assets/missing.js")).toBeNull();
  });

  test("encoded parent segments in a URL serve the dashboard, never a file outside", async () => {
    for (const path of ["/..%2Fdist-x%2Fsecret.txt", "/..%2Fdist-x/secret.txt", "/%2E%2E%2Fdist-x%2Fsecret.txt", "/..%2Foutside.txt"]) {
      const body = await (await handle(srv, path)).text();
      expect(body).not.toContain("not for the web");
      expect(body).toContain("<title>dashboard</title>");
    }
  });

  test("unknown API routes stay 404 JSON", async () => {
    const res = await handle(srv, "/api/v1/nope");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("ROUTE_NOT_FOUND");
  });
});

describe("security headers", () => {
  const paths = ["/", "/devices", "/assets/app.js", "/healthz", "/api/v1/devices", "/api/v1/nope"];

  test("every response carries the CSP and the other headers; no HSTS over http", async () => {
    for (const path of paths) {
      const res = await fetch(`${srv.url}${path}`);
      const h = res.headers;
      expect(h.get("content-security-policy")).toBe(contentSecurityPolicy(srv.url));
      expect(h.get("x-frame-options")).toBe("DENY");
      expect(h.get("x-content-type-options")).toBe("nosniff");
      expect(h.get("referrer-policy")).toBe("same-origin");
      expect(h.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(h.get("permissions-policy")).toContain("camera=()");
      expect(h.get("permissions-policy")).toContain("microphone=()");
      expect(h.get("permissions-policy")).toContain("geolocation=()");
      expect(h.get("strict-transport-security")).toBeNull();
    }
  });

  test("the CSP allows no inline or foreign script, no framing, and sockets only to the public URL", () => {
    const csp = contentSecurityPolicy("http://127.0.0.1:8080");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:8080;");
    expect(contentSecurityPolicy("https://rmm.example.com/")).toContain("connect-src 'self' wss://rmm.example.com;");
  });

  test("an https public URL adds HSTS and a wss: socket origin", async () => {
    for (const path of paths) {
      const h = (await fetch(`${https.url}${path}`)).headers;
      expect(h.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
      expect(h.get("content-security-policy")).toContain("connect-src 'self' wss://rmm.example.com;");
    }
  });
});
