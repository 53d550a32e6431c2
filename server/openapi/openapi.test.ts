import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compileErrors, validate } from "@readme/openapi-parser";
import { startTestServer, type TestServer } from "../testing/harness.ts";

interface Operation {
  parameters?: unknown[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }>; headers?: Record<string, unknown> }>;
  security?: Record<string, string[]>[];
  "x-websocket"?: boolean;
}
interface Document {
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const ROOT = resolve(import.meta.dir, "../..");
const PUBLIC = [
  /^\/api\/v1\/auth\/login$/,
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/download\/agent\//,
  /^\/install\./,
  /^\/api\/agent\/v1\//,
  /^\/api\/v1\/auth\/oidc\/(providers|start|callback)$/,
];

let srv: TestServer;
let doc: Document;
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op, name: `${method} ${path}` })),
  );

beforeAll(async () => {
  srv = await startTestServer();
  doc = (await (await fetch(`${srv.url}/api/v1/openapi/json`)).json()) as Document;
}, 120_000);
afterAll(() => srv.stop());

describe("the OpenAPI document", () => {
  test("a third-party validator (@readme/openapi-parser) accepts it", async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? "" : compileErrors(result)).toBe("");
    expect(result.warnings).toEqual([]);
  });

  test("names this server, uses standard methods only and no trailing slashes", () => {
    expect(doc.servers).toEqual([{ url: srv.url }]);
    expect(operations().length).toBeGreaterThan(60);
    for (const { path, method } of operations()) {
      // HEAD: a tus upload's offset (the resumable-upload protocol asks with it)
      expect(["get", "put", "post", "delete", "patch", "head"]).toContain(method);
      expect(path === "/" || !path.endsWith("/")).toBe(true);
    }
    const sockets = operations().filter((o) => o.op["x-websocket"]);
    expect(sockets.map((o) => o.path).sort()).toEqual(["/api/agent/v1/ws", "/api/v1/devices/{id}/terminal", "/api/v1/live"]);
    for (const { op } of sockets) expect(Object.keys(op.responses)).toContain("101");
  });

  test("every operation says its security: none for login, health, downloads and the signed agent routes; cookie or bearer elsewhere", () => {
    for (const { path, op, name } of operations()) {
      const open = PUBLIC.some((p) => p.test(path));
      expect({ name, security: op.security }).toEqual({ name, security: open ? [] : [{ cookie: [] }, { bearer: [] }] });
      if (!open) expect({ name, statuses: Object.keys(op.responses) }).toMatchObject({ statuses: expect.arrayContaining(["401", "403"]) });
    }
  });

  test("every operation has a success schema, and its error answers use the shared error body", () => {
    for (const { op, name } of operations()) {
      // a browser redirect (single sign-on) succeeds with 302 and a Location, no body
      const redirect = Object.keys(op.responses).includes("302");
      const success = Object.entries(op.responses).filter(([status]) => status.startsWith("2") || status === "101" || status === "302");
      expect({ name, success: success.length > 0 }).toEqual({ name, success: true });
      // answers of headers only, by definition (HEAD, 204 No Content) or documented so (the tus protocol's 201 with a Location)
      const bodiless =
        name.startsWith("head ") ||
        success.every(([status, r]) => status === "204" || (status === "201" && !r.content && r.headers?.Location));
      if (!op["x-websocket"] && !redirect && !bodiless) {
        const schemas = success.flatMap(([, r]) => Object.values(r.content ?? {}).map((c) => c.schema));
        expect({ name, schema: schemas.length > 0 && schemas.every((s) => s && Object.keys(s).length > 0) }).toEqual({
          name,
          schema: true,
        });
      }
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400 || (name === "get /readyz" && status === "503")) continue; // not ready: the readiness report
        expect({ name, status, schema: response.content?.["application/json"]?.schema }).toEqual({
          name,
          status,
          schema: { $ref: "#/components/schemas/ErrorBody" },
        });
      }
      if (op.parameters?.length || op.requestBody)
        expect({ name, statuses: Object.keys(op.responses) }).toMatchObject({ statuses: expect.arrayContaining(["422"]) });
    }
  });

  test("every request body has its JSON schema; a command's is a union on `type` with each payload's bounds", () => {
    for (const { op, name } of operations().filter((o) => o.op.requestBody && o.name !== "post /api/agent/v1/beacon")) {
      const schema = op.requestBody?.content["application/json"] as { schema?: object } | undefined;
      expect({ name, schema: Object.keys(schema?.schema ?? {}).length > 0 }).toEqual({ name, schema: true });
    }
    const body = JSON.stringify(doc.paths["/api/v1/devices/{id}/commands"]?.post?.requestBody);
    for (const part of ['"const":"run_script"', '"enum":["reboot","shutdown"]', '"^[A-Za-z_][A-Za-z0-9_]{0,127}$"', '"maximum":86400'])
      expect(body).toContain(part);
  });
});

describe("a client generated from the document", () => {
  test("openapi-typescript generates types, and code reading a device page's total compiles", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sentpulse-openapi-"));
    try {
      await Bun.write(join(dir, "openapi.json"), JSON.stringify(doc));
      const gen = Bun.spawnSync(
        [
          "bun",
          "--preload",
          join(import.meta.dir, "typescript-5.ts"),
          join(ROOT, "node_modules/openapi-typescript/bin/cli.js"),
          "openapi.json",
          "-o",
          "schema.ts",
        ],
        { cwd: dir, stdout: "pipe", stderr: "pipe" },
      );
      expect({ code: gen.exitCode, stderr: gen.stderr.toString() }).toEqual({ code: 0, stderr: gen.stderr.toString() });
      await Bun.write(
        join(dir, "client.ts"),
        `import type { paths } from "./schema";
type Page = paths["/api/v1/devices"]["get"]["responses"][200]["content"]["application/json"];
type Exactly<T, U> = [T] extends [U] ? ([U] extends [T] ? (0 extends 1 & T ? false : true) : false) : false;
const totalIsNumber: Exactly<Page["total"], number> = true;
const hostnameIsString: Exactly<Page["items"][number]["hostname"], string> = true;
export function total(page: Page): number {
  return totalIsNumber && hostnameIsString ? page.total : -1;
}
`,
      );
      await Bun.write(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, target: "ESNext", module: "Preserve", skipLibCheck: true },
          files: ["client.ts"],
        }),
      );
      const tsc = Bun.spawnSync([join(ROOT, "node_modules/.bin/tsc"), "-p", "tsconfig.json"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
      expect({ code: tsc.exitCode, out: tsc.stdout.toString() }).toEqual({ code: 0, out: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
