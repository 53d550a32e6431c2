import { describe, expect, test } from "bun:test";
import { join } from "node:path";

/**
 * What the compiled agent carries: its bundle (every module, the lazily imported ones too) must not
 * contain arktype, which costs ~30–40 MB of RSS in a compiled binary (docs/benchmarks.md, agent
 * footprint), nor server code beyond the side-effect-free protocol values. A value imported from a
 * server/protocol/ schema module evaluates its arktype schemas: import types from there and values
 * from the `*-limits.ts` files.
 */
const ROOT = join(import.meta.dir, "..");
const SERVER_MODULES_ALLOWED = new Set([
  "server/version.ts",
  "server/protocol/constants.ts",
  "server/protocol/envelope.ts",
  "server/protocol/signing.ts",
  "server/protocol/files-limits.ts",
  "server/protocol/patch-limits.ts",
  "server/protocol/toolbox-limits.ts",
  // the binary chunk codec (no arktype: plain bytes and JSON)
  "server/protocol/binary.ts",
]);

describe("the agent's bundle", () => {
  test("holds no arktype and no server module but the protocol's plain values", async () => {
    const built = await Bun.build({ entrypoints: [join(ROOT, "agent/main.ts")], target: "bun", root: ROOT });
    expect(built.success).toBe(true);
    const text = (await Promise.all(built.outputs.map((o) => o.text()))).join("\n");
    // a non-minified bundle names each module it holds in a `// path` line
    const modules = [...text.matchAll(/^\/\/ (\S+\.(?:[cm]?js|ts|json))$/gm)].map((m) => m[1] ?? "");
    expect(modules).toContain("agent/transport/pulse.ts");
    const packages = new Set(modules.map((m) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1]).filter((p) => p !== undefined));
    expect(packages.has("valibot")).toBe(true);
    expect([...packages].filter((p) => p.includes("ark"))).toEqual([]);
    expect(modules.filter((m) => m.startsWith("server/") && !SERVER_MODULES_ALLOWED.has(m))).toEqual([]);
  });
});
