import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import type {
  ServiceAction,
  ServiceActionResult,
  ServiceInfo,
  ServiceList,
  ServiceState,
  StartupType,
} from "../../server/protocol/toolbox.ts";
import { MAX_SERVICES } from "../../server/protocol/toolbox-limits.ts";
import { firstLine, run } from "../toolbox/run.ts";
import { ToolboxError } from "../toolbox/types.ts";

/** True when systemd is the running init (sd_booted(3): /run/systemd/system exists). */
export function systemdRunning(root = "/"): boolean {
  return existsSync(`${root}run/systemd/system`);
}

// ---- systemd ----

/** `systemctl list-units --type=service --all --output=json` and `list-unit-files` argv. */
const SYSTEMD_LIST_UNITS = ["systemctl", "list-units", "--type=service", "--all", "--output=json", "--no-pager"];
const SYSTEMD_LIST_UNIT_FILES = ["systemctl", "list-unit-files", "--type=service", "--output=json", "--no-pager"];

/** `systemctl <action> -- <name>`: the name is a validated argument, never an option. */
export function systemdActionArgv(name: string, action: ServiceAction): string[] {
  return ["systemctl", action, "--no-pager", "--", name];
}

/** The unit's properties after an action. */
function systemdShowArgv(name: string): string[] {
  return ["systemctl", "show", "--no-pager", "--property=Id,Description,LoadState,ActiveState,SubState,UnitFileState,MainPID", "--", name];
}

function systemdState(active: string): ServiceState {
  switch (active) {
    case "active":
    case "reloading":
      return "running";
    case "inactive":
      return "stopped";
    case "failed":
      return "failed";
    case "activating":
      return "starting";
    case "deactivating":
      return "stopping";
    default:
      return "unknown";
  }
}

function systemdStartup(fileState: string | undefined): StartupType {
  if (!fileState) return "unknown";
  if (fileState.startsWith("enabled") || fileState === "alias") return "auto";
  if (fileState === "disabled" || fileState.startsWith("masked")) return "disabled";
  return "manual"; // static, indirect, generated, transient: started by something else
}

type Unit = { unit?: unknown; load?: unknown; active?: unknown; sub?: unknown; description?: unknown };
type UnitFile = { unit_file?: unknown; state?: unknown };

/** Parses the JSON of `systemctl list-units --output=json` and `list-unit-files --output=json` into services. */
export function parseSystemdServices(unitsJson: string, unitFilesJson: string): ServiceInfo[] {
  const units = JSON.parse(unitsJson) as Unit[];
  const files = JSON.parse(unitFilesJson || "[]") as UnitFile[];
  if (!Array.isArray(units) || !Array.isArray(files)) throw new ToolboxError("UNEXPECTED_OUTPUT", "systemctl did not print a JSON list");
  const fileState = new Map<string, string>();
  for (const f of files) if (typeof f.unit_file === "string" && typeof f.state === "string") fileState.set(f.unit_file, f.state);
  const out: ServiceInfo[] = [];
  const seen = new Set<string>();
  for (const u of units) {
    if (typeof u.unit !== "string" || u.load === "not-found") continue;
    seen.add(u.unit);
    out.push({
      name: u.unit,
      displayName: u.unit.replace(/\.service$/, ""),
      description: typeof u.description === "string" ? u.description.slice(0, 1024) : "",
      state: u.load === "masked" ? "stopped" : systemdState(String(u.active)),
      startup: systemdStartup(fileState.get(u.unit)),
      pid: null,
    });
  }
  // installed units that are not loaded (never started) are listed too, as stopped
  for (const [unit, state] of fileState) {
    if (seen.has(unit) || unit.endsWith("@.service")) continue;
    out.push({
      name: unit,
      displayName: unit.replace(/\.service$/, ""),
      description: "",
      state: "stopped",
      startup: systemdStartup(state),
      pid: null,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name)).slice(0, MAX_SERVICES);
}

/** Parses `systemctl show` KEY=VALUE output; undefined when the unit does not exist. */
export function parseSystemdShow(text: string): ServiceInfo | undefined {
  const p = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) p.set(line.slice(0, i), line.slice(i + 1));
  }
  if (!p.get("Id") || p.get("LoadState") === "not-found") return undefined;
  const pid = Number(p.get("MainPID") ?? 0);
  const id = p.get("Id") ?? "";
  return {
    name: id,
    displayName: id.replace(/\.service$/, ""),
    description: (p.get("Description") ?? "").slice(0, 1024),
    state: systemdState(p.get("ActiveState") ?? ""),
    startup: systemdStartup(p.get("UnitFileState")),
    pid: pid > 0 ? pid : null,
  };
}

// ---- SysV init scripts ----

/** Parses `service --status-all` (" [ + ]  name" running, "[ - ]" stopped, "[ ? ]" no status). */
export function parseStatusAll(text: string): Map<string, ServiceState> {
  const out = new Map<string, ServiceState>();
  for (const line of text.split("\n")) {
    const m = /^\s*\[\s*([+\-?])\s*\]\s+(\S+)\s*$/.exec(line);
    if (m?.[2]) out.set(m[2], m[1] === "+" ? "running" : m[1] === "-" ? "stopped" : "unknown");
  }
  return out;
}

/** The LSB header's Short-Description (or Description) of an init script. */
export function lsbDescription(script: string): string {
  const m = /^#\s*Short-Description:\s*(.+)$/m.exec(script) ?? /^#\s*Description:\s*(.+)$/m.exec(script);
  return (m?.[1] ?? "").trim().slice(0, 1024);
}

/** Startup of an init script from the rc2-5 links: an S link → auto, only K links → disabled, none → manual. */
export function sysvStartup(name: string, rcLinks: readonly string[]): StartupType {
  const mine = rcLinks.filter((l) => l.replace(/^[SK]\d\d/, "") === name);
  if (mine.some((l) => l.startsWith("S"))) return "auto";
  return mine.length > 0 ? "disabled" : "manual";
}

/** LSB status exit codes: 0 running, 1-2 dead with a pid or lock file left (failed), 3 stopped. */
export function lsbState(exitCode: number | null): ServiceState {
  if (exitCode === 0) return "running";
  if (exitCode === 1 || exitCode === 2) return "failed";
  if (exitCode === 3) return "stopped";
  return "unknown";
}

/** argv of a start/stop/restart through service(8) (or the script itself without it), and of enable/disable. */
export function sysvActionArgv(name: string, action: ServiceAction, has: (program: string) => boolean): string[] {
  if (action === "enable" || action === "disable") {
    if (has("update-rc.d")) return ["update-rc.d", name, action];
    if (has("chkconfig")) return ["chkconfig", name, action === "enable" ? "on" : "off"];
    throw new ToolboxError("UNSUPPORTED", "neither update-rc.d nor chkconfig is installed");
  }
  return has("service") ? ["service", name, action] : [`/etc/init.d/${name}`, action];
}

const INIT_D = "/etc/init.d";
/** After an action, the status is asked up to this many more times, this far apart, until it shows the action's result. */
const SETTLE_TRIES = 10;
const SETTLE_MS = 300;
const NOT_SERVICES = new Set(["README", "skeleton", "rc", "rcS", "halt", "reboot", "single", "functions"]);

function rcLinks(): string[] {
  return ["2", "3", "4", "5"].flatMap((n) => {
    try {
      return readdirSync(`/etc/rc${n}.d`);
    } catch {
      return [];
    }
  });
}

function initScripts(): string[] {
  try {
    return readdirSync(INIT_D).filter((n) => !NOT_SERVICES.has(n) && !n.startsWith(".") && statSync(`${INIT_D}/${n}`).isFile());
  } catch {
    return [];
  }
}

function readScript(name: string): string {
  try {
    return readFileSync(`${INIT_D}/${name}`, "utf8").slice(0, 16_384);
  } catch {
    return "";
  }
}

function pidOf(name: string): number | null {
  for (const path of [`/run/${name}.pid`, `/var/run/${name}.pid`]) {
    try {
      const pid = Number(readFileSync(path, "utf8").trim());
      if (pid > 0 && existsSync(`/proc/${pid}`)) return pid;
    } catch {}
  }
  return null;
}

const onPath = (program: string) => Bun.which(program, { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }) !== null;

async function sysvInfo(name: string, state?: ServiceState): Promise<ServiceInfo> {
  const s = state ?? lsbState((await run([`${INIT_D}/${name}`, "status"], { timeoutMs: 15_000, maxBytes: 65_536 })).exitCode);
  return {
    name,
    displayName: name,
    description: lsbDescription(readScript(name)),
    state: s,
    startup: sysvStartup(name, rcLinks()),
    pid: s === "running" ? pidOf(name) : null,
  };
}

async function sysvList(names?: readonly string[]): Promise<ServiceList> {
  const scripts = initScripts();
  if (names) {
    // each named script's own status, instead of every script's through --status-all
    const items: ServiceInfo[] = [];
    for (const name of names.filter((n) => scripts.includes(n))) items.push(await sysvInfo(name));
    return { manager: "sysv", items };
  }
  const states = onPath("service") ? parseStatusAll((await run(["service", "--status-all"], { timeoutMs: 30_000 })).stdout) : new Map();
  const items: ServiceInfo[] = [];
  for (const name of scripts.slice(0, MAX_SERVICES)) items.push(await sysvInfo(name, states.get(name) ?? "unknown"));
  return { manager: "sysv", items };
}

async function sysvAction(name: string, action: ServiceAction): Promise<ServiceActionResult> {
  if (!initScripts().includes(name)) throw new ToolboxError("NO_SUCH_SERVICE", `no init script ${name} on this device`);
  const r = await run(sysvActionArgv(name, action, onPath), { timeoutMs: 60_000, maxBytes: 65_536 });
  if (r.exitCode !== 0)
    throw new ToolboxError(
      "ACTION_FAILED",
      `${action} ${name} failed (exit ${r.exitCode ?? "killed"}): ${firstLine(r.stderr || r.stdout)}`,
    );
  // an init script returns once the daemon is launched, often before it wrote its pid file: give it a moment
  const expected = action === "stop" ? "stopped" : action === "enable" || action === "disable" ? undefined : "running";
  let info = await sysvInfo(name);
  for (let i = 0; expected && info.state !== expected && i < SETTLE_TRIES; i++) {
    await Bun.sleep(SETTLE_MS);
    info = await sysvInfo(name);
  }
  return { manager: "sysv", service: info };
}

// ---- systemd, run ----

/** list-units and list-unit-files argv, limited to the named units (each as given and with `.service`) when names are given. */
export function systemdListArgv(names?: readonly string[]): { units: string[]; files: string[] } {
  const patterns = names ? ["--", ...names.flatMap((n) => (n.endsWith(".service") ? [n] : [n, `${n}.service`]))] : [];
  return { units: [...SYSTEMD_LIST_UNITS, ...patterns], files: [...SYSTEMD_LIST_UNIT_FILES, ...patterns] };
}

async function systemdList(names?: readonly string[]): Promise<ServiceList> {
  const argv = systemdListArgv(names);
  const [units, files] = await Promise.all([run(argv.units), run(argv.files)]);
  if (units.exitCode !== 0) throw new ToolboxError("COMMAND_FAILED", `systemctl list-units failed: ${firstLine(units.stderr)}`);
  return { manager: "systemd", items: parseSystemdServices(units.stdout, files.exitCode === 0 ? files.stdout : "[]") };
}

async function systemdAction(name: string, action: ServiceAction): Promise<ServiceActionResult> {
  const before = parseSystemdShow((await run(systemdShowArgv(name))).stdout);
  if (!before) throw new ToolboxError("NO_SUCH_SERVICE", `no unit ${name} on this device`);
  const r = await run(systemdActionArgv(name, action), { timeoutMs: 90_000, maxBytes: 65_536 });
  if (r.exitCode !== 0) throw new ToolboxError("ACTION_FAILED", `systemctl ${action} ${name} failed: ${firstLine(r.stderr || r.stdout)}`);
  return { manager: "systemd", service: parseSystemdShow((await run(systemdShowArgv(name))).stdout) ?? null };
}

/** Services through systemd when it is the running init, the SysV init scripts otherwise. */
export function linuxServices(names?: readonly string[]): Promise<ServiceList> {
  return systemdRunning() ? systemdList(names) : sysvList(names);
}

export function linuxServiceAction(name: string, action: ServiceAction): Promise<ServiceActionResult> {
  return systemdRunning() ? systemdAction(name, action) : sysvAction(name, action);
}
