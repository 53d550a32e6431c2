import type { CommandSpec } from "../protocol/frames.ts";

/**
 * A service name a restart_service action may carry: letters, digits and `_ . @ -`, not starting with
 * `-`, at most 128 characters. It is interpolated into a script, so nothing a shell or PowerShell would
 * read as syntax (spaces, quotes, `;`, `$`, backticks, redirections) gets through.
 */
export const SERVICE_NAME = /^[A-Za-z0-9_.@][A-Za-z0-9_.@-]{0,127}$/;

export type DeviceOs = "linux" | "windows" | "darwin";

/** The command that restarts `service` on a device of this OS and reports its state; throws on a name SERVICE_NAME refuses. */
export function restartServiceSpec(os: DeviceOs, service: string): CommandSpec {
  if (!SERVICE_NAME.test(service)) throw new Error(`not a valid service name: ${JSON.stringify(service)}`);
  const run = (language: "bash" | "sh" | "powershell", content: string): CommandSpec => ({
    kind: "run_script",
    language,
    content,
    args: [],
    env: {},
    timeoutSeconds: 120,
  });
  switch (os) {
    case "linux":
      // systemd where it is the running init (sd_booted), the SysV script through service(8) elsewhere (containers, WSL,
      // older systems). A SysV script returns once the daemon has forked, before it writes its pid file: the status is
      // asked again for up to 5 s until it says running (asked at once, a busy machine's restart read as a failure)
      return run(
        "bash",
        `if [ -d /run/systemd/system ]; then systemctl restart -- ${service} && systemctl is-active -- ${service}; else service ${service} restart && { for _ in 1 2 3 4 5 6 7 8 9 10; do service ${service} status >/dev/null 2>&1 && break; sleep 0.5; done; service ${service} status; }; fi`,
      );
    case "windows":
      return run("powershell", `Restart-Service -Name '${service}' -Force; Get-Service -Name '${service}'`);
    case "darwin":
      return run("sh", `launchctl kickstart -k system/${service}`);
  }
}
