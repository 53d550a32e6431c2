import { afterAll, beforeAll, describe, expect, expectTypeOf, test } from "bun:test";
import { createClient } from "../client.ts";
import { agentBinary, startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  await agentBinary();
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

describe("operations", () => {
  test("/healthz and /readyz", async () => {
    expect(await (await fetch(`${srv.url}/healthz`)).json()).toEqual({ ok: true });
    const ready = (await (await fetch(`${srv.url}/readyz`)).json()) as { ok: boolean; engine: string };
    expect(ready.ok).toBe(true);
    expect(["native", "timescale"]).toContain(ready.engine);
  });

  test("a health check over HTTP/1.0 without a Host header (what simple load balancers send) is answered, not a 500", async () => {
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error("no answer")), 10_000);
        void Bun.connect({
          hostname: "127.0.0.1",
          port: srv.port,
          socket: {
            open: (s) => void s.write(request),
            data: (_s, d) => {
              out += new TextDecoder().decode(d);
            },
            close: () => {
              clearTimeout(timer);
              resolve(out);
            },
            error: (_s, err) => reject(err),
          },
        });
      });
    for (const path of ["/healthz", "/readyz"]) {
      const answer = await raw(`GET ${path} HTTP/1.0\r\n\r\n`);
      expect(answer.split("\r\n")[0]).toMatch(/^HTTP\/1\.[01] 200 /);
      expect(answer).toContain('"ok":true');
    }
    // an unsafe request without Host is still refused by the cross-site guard, not crashed on
    const post = await raw("POST /api/v1/scripts HTTP/1.0\r\nOrigin: https://evil.example\r\nContent-Length: 2\r\n\r\n{}");
    expect(post.split("\r\n")[0]).toMatch(/ 403 /);
  });

  test("the OpenAPI document lists the contract's routes, and the page and its script are served here", async () => {
    const doc = (await (await fetch(`${srv.url}/api/v1/openapi/json`)).json()) as { paths: Record<string, unknown> };
    for (const path of [
      "/api/v1/auth/login",
      "/api/v1/devices",
      "/api/v1/devices/{id}/telemetry",
      "/api/v1/enrollment-tokens",
      "/api/agent/v1/enroll",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const page = await fetch(`${srv.url}/api/v1/openapi`);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).not.toContain("https://");
    for (const src of html.matchAll(/<script src="([^"]+)"/g)) {
      const script = await fetch(`${srv.url}${src[1]}`);
      expect(script.status).toBe(200);
      expect(script.headers.get("content-type")).toContain("text/javascript");
    }
  });

  test("agent binaries are served per target; unknown targets are 422", async () => {
    const res = await fetch(`${srv.url}/download/agent/linux-x64`);
    expect(res.status).toBe(200);
    const head = new Uint8Array(await res.arrayBuffer()).slice(0, 4);
    expect([...head]).toEqual([0x7f, 0x45, 0x4c, 0x46]); // ELF
    expect((await fetch(`${srv.url}/download/agent/amiga-m68k`)).status).toBe(422);
  });

  test("unknown API routes are 404 JSON, not the dashboard", async () => {
    const res = await fetch(`${srv.url}/api/v1/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("ROUTE_NOT_FOUND");
  });

  test("the installers are served with this server's URL", async () => {
    expect(await (await fetch(`${srv.url}/install.ps1`)).text()).toContain(`$Server = '${srv.url}'`);
  });
});

describe("the typed client", () => {
  test("createClient with an API key lists devices, typed from the server's routes", async () => {
    const key = ((await (await srv.api("/api/v1/api-keys", { body: { name: "sdk", role: "readonly" } })).json()) as { key: string }).key;
    const client = createClient(srv.url, { apiKey: key });
    const { data, error } = await client.api.v1.devices.get({ query: { limit: 10 } });
    expect(error).toBeNull();
    expect(data?.total).toBe(0);
    expectTypeOf(data!.items).toBeArray();
    const bad = await createClient(srv.url).api.v1.devices.get({ query: {} });
    expect(bad.error?.status as number).toBe(401);
  });
});
