import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
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
