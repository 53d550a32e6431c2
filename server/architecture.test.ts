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

/**
 * Where SQL may live: a capability's `store.ts`, or a folder-local `<concern>.store.ts` beside it
 * (one folder is one owner, however many store files it splits into); the migration runner aside.
 */
const SQL_EXEMPT = ["db/migrate.ts", "db/embedded.ts"];
const isStore = (file: string) => /(^|\/)(\w[\w-]*\.)?store\.ts$/.test(file);
/** A postgres.js query: a tagged template (`sql\``, `sql<T>\``, `tx\``), `sql.begin(` or `.unsafe(`. */
const SQL_MARK = /\b(?:sql|tx)\s*(?:`|<)|\.unsafe\(|\bsql\.begin\(/;

/** The source without its comments (a doc line may quote SQL). */
function code(file: string): string {
  return readFileSync(join(ROOT, file), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|\s)\/\/.*$/gm, "$1");
}

/** The tables a piece of SQL writes: insert, update, delete or copy into (a dynamic name is kept as written). */
function writesOf(text: string): string[] {
  const found = [
    /\binsert\s+into\s+([^\s(]+)/gi,
    /(?<!\bdo\s+)\bupdate\s+([^\s(]+)(?:\s+(?:as\s+)?\w+)?\s+set\b/gi,
    /\bdelete\s+from\s+([^\s(]+)/gi,
    /\bcopy\s+([^\s(]+)\s+(?:\(|from\b)/gi,
  ].flatMap((re) => [...text.matchAll(re)].map((m) => (m[1] ?? "").toLowerCase()));
  return [...new Set(found)].sort();
}

/** Table → the folders whose files write it (only store files, once the test above passes). */
function writers(files: string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const f of files) {
    for (const table of writesOf(code(f))) {
      const folders = map.get(table) ?? [];
      if (!folders.includes(dirname(f))) folders.push(dirname(f));
      map.set(table, folders.sort());
    }
  }
  return map;
}

/**
 * Tables written from two folders on purpose, with the reason. (Cascades and triggers are the
 * database's doing, not a second writer, and are not listed.)
 */
const SHARED_WRITERS: Record<string, string> = {};

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

  test("SQL only in store files: `store.ts` or a folder-local `<concern>.store.ts` (bar the migration runner)", () => {
    const outside = SOURCES.filter((f) => !isStore(f) && !SQL_EXEMPT.includes(f) && SQL_MARK.test(code(f)));
    expect(outside).toEqual([]);
  });

  test("each table is written by one folder's store; others ask it through its functions", () => {
    const map = writers(SOURCES.filter((f) => !SQL_EXEMPT.includes(f)));
    expect(map.size).toBeGreaterThan(20);
    const shared = [...map].filter(([table, folders]) => folders.length > 1 && !SHARED_WRITERS[table]);
    expect(shared.map(([table, folders]) => `${table}: ${folders.join(", ")}`)).toEqual([]);
    const dynamic = [...map.keys()].filter((table) => !/^\w+$/.test(table));
    expect(dynamic).toEqual([]);
  });

  test("the writer scan sees inserts, updates, deletes and copies, not upserts' or locks' `update`", () => {
    expect(
      writesOf(`insert into a (x) values (1) on conflict (x) do update set x = 2;
        update b set y = 1; update c as cc set y = 1; update d dd set y = 1; delete from e where true;
        copy f (x, y) from stdin; select 1 from g for update of g skip locked; select 1 from h for no key update`),
    ).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(isStore("server/devices/store.ts") && isStore("server/devices/secrets.store.ts")).toBe(true);
    expect(isStore("server/devices/restore.ts") || isStore("server/devices/routes.ts")).toBe(false);
    expect(SQL_MARK.test("await sql`select 1`") && SQL_MARK.test("this.sql<Row[]>`x`") && SQL_MARK.test("tx`x`")).toBe(true);
    expect(SQL_MARK.test("sql.begin(async (tx) => 1)") && SQL_MARK.test("db.unsafe(text)")).toBe(true);
    expect(SQL_MARK.test("const sql = db.sql; f(sql)")).toBe(false);
  });
});
