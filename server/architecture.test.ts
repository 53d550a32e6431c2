import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const SOURCES = ["server", "agent", "db"].flatMap((dir) =>
  [...new Bun.Glob(`${dir}/**/*.ts`).scanSync(ROOT)].filter((f) => !f.endsWith(".test.ts") && !f.includes("/testing/")),
);

/**
 * Relative imports of a file, as repository paths. Type-only ones count too (a cycle of types is
 * still a cycle a reader must untangle) unless `runtimeOnly`.
 */
function importsOf(file: string, runtimeOnly = false): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)(\s+type\b)?[^'"]*?from\s+["'](\.{1,2}\/[^"']+)["']/gm)) {
    if (runtimeOnly && m[2]) continue;
    out.push(relative(ROOT, resolve(dirname(join(ROOT, file)), m[3] ?? "")));
  }
  return out;
}

/** Every import cycle of a graph (file → files it imports), each as a path that returns to its start. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const next of graph.get(f) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe("architecture", () => {
  test("no import cycle in the server, the agent or db (type imports included)", () => {
    expect(SOURCES.length).toBeGreaterThan(50);
    const graph = new Map(SOURCES.map((f) => [f, importsOf(f).filter((i) => SOURCES.includes(i))]));
    expect(cycles(graph).map((c) => c.join(" → "))).toEqual([]);
  });

  test("the cycle finder finds cycles", () => {
    const g = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
    expect(cycles(g({ a: ["b"], b: ["c"], c: [] }))).toEqual([]);
    expect(cycles(g({ a: ["b"], b: ["c"], c: ["a"] }))).toEqual([["a", "b", "c", "a"]]);
    expect(cycles(g({ a: ["a"] }))).toEqual([["a", "a"]]);
  });

  test("the agent runs no server code: only types, the protocol and the version", () => {
    const reaching = SOURCES.filter((f) => f.startsWith("agent/")).flatMap((f) =>
      importsOf(f, true)
        .filter((i) => i.startsWith("server/") && !i.startsWith("server/protocol/") && i !== "server/version.ts")
        .map((i) => `${f} → ${i}`),
    );
    expect(reaching).toEqual([]);
  });
});
