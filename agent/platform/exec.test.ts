import { describe, expect, test } from "bun:test";
import { CommandError, runCommand } from "./exec.ts";

describe("runCommand", () => {
  test("resolves with stdout", async () => {
    expect(await runCommand(["sh", "-c", "printf 'a b'"])).toBe("a b");
  });

  test("a non-zero exit rejects with the exit code and stderr", async () => {
    const err = await runCommand(["sh", "-c", "echo oops >&2; exit 3"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).exitCode).toBe(3);
    expect((err as CommandError).message).toContain("oops");
  });

  test("a missing program rejects with a CommandError", async () => {
    await expect(runCommand(["/nonexistent/sentpulse-tool"])).rejects.toBeInstanceOf(CommandError);
  });

  test("a command past its timeout is killed and rejects", async () => {
    const err = await runCommand(["sleep", "5"], 100).catch((e: unknown) => e);
    expect((err as CommandError).code).toBe("command_failed");
  });
});
