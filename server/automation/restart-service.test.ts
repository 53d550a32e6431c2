import { describe, expect, test } from "bun:test";
import { restartServiceSpec, SERVICE_NAME } from "./restart-service.ts";

const BAD_NAMES = ["foo; rm -rf /", "$(x)", "`x`", "print spooler", "a'b", 'a"b', "a|b", "a>b", "-h", "", "x".repeat(129)];

describe("restartServiceSpec", () => {
  test("linux restarts through systemctl and reports whether the unit is active", () => {
    expect(restartServiceSpec("linux", "nginx")).toEqual({
      kind: "run_script",
      language: "bash",
      content:
        "if [ -d /run/systemd/system ]; then systemctl restart -- nginx && systemctl is-active -- nginx; else service nginx restart && { for _ in 1 2 3 4 5 6 7 8 9 10; do service nginx status >/dev/null 2>&1 && break; sleep 0.5; done; service nginx status; }; fi",
      args: [],
      env: {},
      timeoutSeconds: 120,
    });
  });

  test("windows restarts through Restart-Service and shows the service", () => {
    const spec = restartServiceSpec("windows", "Spooler");
    expect(spec).toMatchObject({
      kind: "run_script",
      language: "powershell",
      content: "Restart-Service -Name 'Spooler' -Force; Get-Service -Name 'Spooler'",
    });
  });

  test("darwin kicks the system launchd job", () => {
    expect(restartServiceSpec("darwin", "com.example.agent")).toMatchObject({
      kind: "run_script",
      language: "sh",
      content: "launchctl kickstart -k system/com.example.agent",
    });
  });

  test("names with systemd and launchd punctuation are accepted", () => {
    for (const name of ["getty@tty1.service", "com.apple.cups", "my_svc-2", "x".repeat(128)]) expect(SERVICE_NAME.test(name)).toBe(true);
  });

  test("names a shell could read as syntax are refused, by the pattern and by the builder", () => {
    for (const name of BAD_NAMES) {
      expect(SERVICE_NAME.test(name)).toBe(false);
      expect(() => restartServiceSpec("linux", name)).toThrow("not a valid service name");
    }
  });
});
