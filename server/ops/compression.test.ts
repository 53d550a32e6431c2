import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { device } from "../testing/fixtures.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { COMPRESS_FROM_BYTES, acceptsGzip } from "./compression.ts";
import { contentSecurityPolicy } from "./headers.ts";

/**
 * Gzip for JSON answers to GET requests (server/ops/compression.ts): what a client that accepts gzip
 * gets is the same JSON, with every security header; everyone else, and every change, is answered
 * as before.
 */
let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
  const [site] = await srv.sql<{ id: string; org: string }[]>`select id, organization_id as org from sites order by created_at limit 1`;
  // enough devices that a page of the list is well past the threshold (and past 16 kB)
  for (let i = 0; i < 60; i++)
    await device(srv.sql, {
      organizationId: site!.org,
      siteId: site!.id,
      hostname: `gz-${String(i).padStart(2, "0")}`,
      tags: ["env=prod"],
    });
  // sites (and their audit entries) through the API, so those lists are past the threshold too
  const [client] = await srv.sql<{ id: string }[]>`select id from clients order by created_at limit 1`;
  for (let i = 0; i < 12; i++)
    expect((await srv.api("/api/v1/sites", { body: { clientId: client!.id, name: `Branch office ${i}` } })).status).toBe(201);
});
afterAll(() => srv.stop());

/** A GET over the socket as the admin, the body left as it came (not decompressed). */
const raw = (path: string, encoding?: string) =>
  fetch(`${srv.url}${path}`, {
    headers: { cookie: srv.cookie, "accept-encoding": encoding ?? "identity" },
    decompress: false,
  } as RequestInit);

describe("gzip for JSON answers", () => {
  test("Accept-Encoding: only gzip with a weight above zero counts", () => {
    const req = (v?: string) => new Request("http://x/", v === undefined ? {} : { headers: { "accept-encoding": v } });
    expect(acceptsGzip(req("gzip, deflate, br"))).toBe(true);
    expect(acceptsGzip(req("br;q=1.0, GZIP;q=0.5"))).toBe(true);
    expect(acceptsGzip(req("gzip;q=0"))).toBe(false);
    expect(acceptsGzip(req("deflate, br"))).toBe(false);
    expect(acceptsGzip(req("identity"))).toBe(false);
    expect(acceptsGzip(req())).toBe(false);
    expect(acceptsGzip(req(`${"x,".repeat(600)}gzip`))).toBe(false);
  });

  for (const path of ["/api/v1/devices?limit=60", "/api/v1/audit?limit=100", "/api/v1/sites"]) {
    test(`${path}: gzipped when accepted, the same JSON and headers as without`, async () => {
      const plain = await raw(path);
      expect(plain.status).toBe(200);
      expect(plain.headers.get("content-encoding")).toBeNull();
      const text = await plain.text();
      const gz = await raw(path, "gzip, deflate, br");
      expect(gz.status).toBe(200);
      const bytes = new Uint8Array(await gz.arrayBuffer());
      expect(text.length).toBeGreaterThanOrEqual(COMPRESS_FROM_BYTES);
      expect(gz.headers.get("content-encoding")).toBe("gzip");
      expect(gz.headers.get("vary")?.toLowerCase()).toContain("accept-encoding");
      expect(bytes.length).toBeLessThan(text.length);
      expect(JSON.parse(gunzipSync(bytes).toString("utf8"))).toEqual(JSON.parse(text));
      expect(gz.headers.get("content-type")).toContain("application/json");
      expect(gz.headers.get("content-security-policy")).toBe(contentSecurityPolicy(srv.url));
      expect(gz.headers.get("x-content-type-options")).toBe("nosniff");
      expect(gz.headers.get("x-frame-options")).toBe("DENY");
    });
  }

  test("a page of 60 devices (28 kB) is gzipped, and fetch reads it back transparently", async () => {
    const gz = await raw("/api/v1/devices?limit=60", "gzip");
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    const page = (await (await fetch(`${srv.url}/api/v1/devices?limit=60`, { headers: { cookie: srv.cookie } })).json()) as {
      items: { hostname: string }[];
    };
    expect(page.items.filter((d) => d.hostname.startsWith("gz-")).length).toBe(60);
  });

  test("a short answer is sent as it is", async () => {
    const res = await raw("/api/v1/devices/counts", "gzip");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBeNull();
    expect(((await res.json()) as { offline: number }).offline).toBeGreaterThanOrEqual(0);
  });

  test("answers to changes are never compressed (a new API key is a secret)", async () => {
    const res = await fetch(`${srv.url}/api/v1/api-keys`, {
      method: "POST",
      headers: { cookie: srv.cookie, origin: srv.url, "content-type": "application/json", "accept-encoding": "gzip" },
      body: JSON.stringify({ name: `gz ${"k".repeat(60)}`, role: "technician" }),
      decompress: false,
    } as RequestInit);
    expect(res.status).toBe(201);
    expect(res.headers.get("content-encoding")).toBeNull();
    expect(((await res.json()) as { key: string }).key).toStartWith("spk_");
  });

  test("an error answer keeps its status and code", async () => {
    const res = await raw("/api/v1/devices?limit=nope", "gzip");
    expect(res.status).toBe(422);
    const body = JSON.parse(
      res.headers.get("content-encoding") === "gzip" ? gunzipSync(new Uint8Array(await res.arrayBuffer())).toString() : await res.text(),
    ) as { error: { code: string } };
    expect(body.error.code).toBe("VALIDATION_FAILED");
  });
});
