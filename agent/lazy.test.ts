import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandSpec, CommandUpdate } from "../server/protocol/frames.ts";
import { journalHasUnreported, lazyExecutor, lazyTerminals } from "./lazy.ts";
import { linux } from "./platform/linux.ts";

const journal = (content?: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), "sentpulse-lazy-")), "commands.json");
  if (content !== undefined) writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
};
const ID = "0192f3a0-1111-7000-8000-000000000001";

describe("loading the executor on first use", () => {
  test("a journal needs the executor only with a cut-off command or an unreported outcome", () => {
    expect(journalHasUnreported(journal())).toBe(false);
    expect(journalHasUnreported(journal({ started: [], done: [{ commandId: ID, status: "succeeded", reported: true }] }))).toBe(false);
    expect(journalHasUnreported(journal({ started: [ID], done: [] }))).toBe(true);
    expect(journalHasUnreported(journal({ started: [], done: [{ commandId: ID, status: "failed", reported: false }] }))).toBe(true);
    expect(journalHasUnreported(journal("{not json"))).toBe(true);
  });

  test("at a welcome with nothing to report the executor is not loaded and nothing is sent", async () => {
    const sent: CommandUpdate[] = [];
    const path = journal({ started: [], done: [{ commandId: ID, status: "succeeded", reported: true }] });
    lazyExecutor(path, linux, true, (u) => sent.push(u) > 0, Date.now).flushUnreported();
    await Bun.sleep(50);
    expect(sent).toEqual([]);
  });

  test("a command cut off by a restart is reported failed once the executor loads at the welcome", async () => {
    const sent: CommandUpdate[] = [];
    const ex = lazyExecutor(journal({ started: [ID], done: [] }), linux, true, (u) => sent.push(u) > 0, Date.now);
    ex.flushUnreported();
    await Bun.sleep(200);
    expect(sent).toEqual([{ commandId: ID, status: "failed", error: "the agent stopped while this command ran" }]);
  });

  test("the first command loads it and runs, in order with the next", async () => {
    const sent: CommandUpdate[] = [];
    const ex = lazyExecutor(journal(), linux, true, (u) => sent.push(u) > 0, Date.now);
    const second = "0192f3a0-1111-7000-8000-000000000002";
    const spec = (text: string): CommandSpec => ({
      kind: "run_script",
      language: "sh",
      content: `echo ${text}`,
      args: [],
      env: {},
      timeoutSeconds: 10,
    });
    ex.receive(ID, spec("one"));
    ex.receive(second, spec("two"));
    const final = (id: string) => sent.find((u) => u.commandId === id && u.status === "succeeded");
    for (let i = 0; i < 100 && !final(second); i++) await Bun.sleep(50);
    expect(final(ID)?.exitCode).toBe(0);
    expect(final(second)?.exitCode).toBe(0);
    expect(sent.indexOf(final(ID) as CommandUpdate)).toBeLessThan(sent.indexOf(final(second) as CommandUpdate));
    expect(sent.filter((u) => u.stdout).map((u) => u.stdout)).toEqual(["one\n", "two\n"]);
  });
});

describe("loading terminals on first use", () => {
  test("input, resize and close before any open are dropped without loading anything", () => {
    const t = lazyTerminals("linux", { output: () => {}, exit: () => {} });
    t.input("s", "ls\n");
    t.resize("s", 80, 24);
    t.close("s");
    t.closeAll();
  });

  test("an open loads the sessions and runs a real shell", async () => {
    let out = "";
    let exited: number | null | undefined;
    const t = lazyTerminals("linux", { output: (_, d) => (out += d), exit: (_, code) => (exited = code) });
    await t.open("s1", 80, 24);
    t.input("s1", "echo lazy-$((40+2)); exit\n");
    for (let i = 0; i < 100 && exited === undefined; i++) await Bun.sleep(50);
    expect(out).toContain("lazy-42");
    expect(exited).toBe(0);
  });
});
