import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandUpdate } from "../../server/protocol/frames.ts";
import { platformFor } from "../platform/index.ts";
import { Executor } from "./executor.ts";
import { interpreterArgv } from "./script.ts";

const journal = () => join(mkdtempSync(join(tmpdir(), "sentpulse-exec-")), "commands.json");
const ID = "01a2086d-8271-73e7-9e11-56bb5eff3ab1";
/** A send function that records what it sends (and reports it sent while `online()` holds). */
const recorder =
  (sent: CommandUpdate[], online = () => true) =>
  (u: CommandUpdate) => {
    if (!online()) return false;
    sent.push(u);
    return true;
  };
const script = (content: string) => ({
  kind: "run_script" as const,
  language: "sh" as const,
  content,
  args: [],
  env: {},
  timeoutSeconds: 10,
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(20);
  }
}

describe("executor", () => {
  test("runs a command once; a redelivery is answered from the journal, also after a restart", async () => {
    const path = journal();
    const sent: CommandUpdate[] = [];
    const a = new Executor(path, platformFor("linux"), true, recorder(sent));
    a.receive(ID, script("echo once"));
    await until(() => sent.some((u) => u.status === "succeeded"));
    const runs = sent.filter((u) => u.status === "running" && !u.stdout).length;
    a.receive(ID, script("echo once"));
    const b = new Executor(path, platformFor("linux"), true, recorder(sent));
    b.receive(ID, script("echo once"));
    await Bun.sleep(200);
    expect(sent.filter((u) => u.status === "running" && !u.stdout).length).toBe(runs);
    expect(sent.filter((u) => u.status === "succeeded").length).toBe(3);
    expect(
      sent
        .filter((u) => u.stdout)
        .map((u) => u.stdout)
        .join(""),
    ).toBe("once\n");
  });

  test("outcomes that could not be sent are sent when the socket is back", async () => {
    let online = false;
    const sent: CommandUpdate[] = [];
    const e = new Executor(
      journal(),
      platformFor("linux"),
      true,
      recorder(sent, () => online),
    );
    e.receive(ID, script("exit 4"));
    await Bun.sleep(500);
    expect(sent).toEqual([]);
    online = true;
    e.flushUnreported();
    expect(sent).toMatchObject([{ commandId: ID, status: "failed", exitCode: 4 }]);
  });

  test("a command whose deadline passed is reported expired and never runs; one within it runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sentpulse-exec-"));
    const sent: CommandUpdate[] = [];
    const e = new Executor(join(dir, "commands.json"), platformFor("linux"), true, recorder(sent));
    const late = "01a2086d-8271-73e7-9e11-56bb5eff3ab2";
    e.receive(late, script(`touch ${join(dir, "ran")}`), Date.now() - 1);
    e.receive(ID, script("echo in time"), Date.now() + 60_000);
    await until(() => sent.some((u) => u.commandId === ID && u.status === "succeeded"));
    expect(sent.filter((u) => u.commandId === late)).toEqual([
      { commandId: late, status: "expired", error: "its deadline passed before it could start" },
    ]);
    expect(existsSync(join(dir, "ran"))).toBe(false);
    // a redelivery is answered from the journal: still expired, still not run
    e.receive(late, script(`touch ${join(dir, "ran")}`), Date.now() + 60_000);
    expect(sent.filter((u) => u.commandId === late).map((u) => u.status)).toEqual(["expired", "expired"]);
  });

  test("deadlines are read on the server's clock, and checked when the command's turn comes", async () => {
    const sent: CommandUpdate[] = [];
    const serverAhead = () => Date.now() + 10 * 60_000;
    const e = new Executor(journal(), platformFor("linux"), true, recorder(sent), serverAhead);
    e.receive(ID, script("echo late"), Date.now() + 60_000); // in time on our clock, not on the server's
    const queued = "01a2086d-8271-73e7-9e11-56bb5eff3ab3";
    const slow = "01a2086d-8271-73e7-9e11-56bb5eff3ab4";
    const f = new Executor(journal(), platformFor("linux"), true, recorder(sent));
    f.receive(slow, script("sleep 0.5"));
    f.receive(queued, script("echo queued"), Date.now() + 200); // expires while the slow one runs
    await until(() => sent.some((u) => u.commandId === queued && u.status !== "running"));
    expect(sent.filter((u) => u.commandId === ID).map((u) => u.status)).toEqual(["expired"]);
    expect(sent.filter((u) => u.commandId === queued).map((u) => u.status)).toEqual(["expired"]);
  });

  test("a power command in simulate mode succeeds without running anything", async () => {
    const sent: CommandUpdate[] = [];
    const e = new Executor(journal(), platformFor("linux"), true, recorder(sent));
    e.receive(ID, { kind: "reboot", delaySeconds: 60, message: "bye" });
    await until(() => sent.some((u) => u.status === "succeeded"));
  });
});

describe("interpreters per OS", () => {
  test("argv for each language", () => {
    expect(interpreterArgv("linux", "bash", "/t/s.sh", ["a"])).toEqual(["bash", "/t/s.sh", "a"]);
    expect(interpreterArgv("linux", "python", "/t/s.py", [])).toEqual(["python3", "/t/s.py"]);
    expect(interpreterArgv("windows", "python", "C:\\t\\s.py", [])).toEqual(["python", "C:\\t\\s.py"]);
    expect(interpreterArgv("windows", "powershell", "C:\\t\\s.ps1", ["-x"])).toEqual([
      "powershell.exe",
      "-NoProfile",
      "-NonInteractive",
      "-ExecutionPolicy",
      "Bypass",
      "-File",
      "C:\\t\\s.ps1",
      "-x",
    ]);
    expect(interpreterArgv("darwin", "powershell", "/t/s.ps1", [])[0]).toBe("pwsh");
  });
});
