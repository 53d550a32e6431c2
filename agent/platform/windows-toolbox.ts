import type {
  AntivirusStatus,
  EnvVar,
  HealthReport,
  EventEntry,
  EventLevel,
  EventLogList,
  ServiceAction,
  ServiceInfo,
  ServiceState,
  StartupType,
} from "../../server/protocol/toolbox.ts";
import { MAX_ENV_VARS, MAX_MESSAGE_CHARS, MAX_SERVICES } from "../../server/protocol/toolbox-limits.ts";
import { MAX_DEFINITIONS_AGE_MS } from "../toolbox/antivirus.ts";
import { smartDisks } from "../toolbox/health.ts";
import { firstLine, run } from "../toolbox/run.ts";
import { type EventQuery, type PlatformToolbox, type ProcessSnapshot, ToolboxError } from "../toolbox/types.ts";
import { powershellArgv } from "./windows-query.ts";

/**
 * Windows: PowerShell and CIM. No value from a request enters a script's text: names, times and
 * search text travel in environment variables (`$env:SP_*`), which PowerShell reads as data.
 */

/** Processes from Win32_Process (parent, command line, CPU time in 100 ns units) with owners from Get-Process. */
export const PROCESSES_SCRIPT = `$owners = @{}
Get-Process -IncludeUserName -ErrorAction SilentlyContinue | ForEach-Object { $owners[$_.Id] = $_.UserName }
@(Get-CimInstance Win32_Process | ForEach-Object {
  [pscustomobject]@{
    pid = [int]$_.ProcessId; ppid = [int]$_.ParentProcessId; name = $_.Name; user = $owners[[int]$_.ProcessId]
    mem = [double]$_.WorkingSetSize; cmd = $_.CommandLine; cpu = [double]$_.KernelModeTime + [double]$_.UserModeTime
    start = if ($_.CreationDate) { ([DateTimeOffset]$_.CreationDate).ToUnixTimeMilliseconds() } else { $null }
  }
}) | ConvertTo-Json -Compress`;

type Row = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : "");
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** ConvertTo-Json prints one object (not a list) for a single row and nothing for none. */
function jsonRows(text: string, what: string): Row[] {
  if (!text.trim()) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ToolboxError("UNEXPECTED_OUTPUT", `${what}: not JSON: ${text.trim().slice(0, 200)}`);
  }
  const rows = Array.isArray(parsed) ? parsed : [parsed];
  return rows.filter((r): r is Row => typeof r === "object" && r !== null);
}

function parseWindowsProcesses(text: string): ProcessSnapshot[] {
  return jsonRows(text, "process list").map((r) => ({
    pid: num(r.pid),
    ppid: num(r.ppid),
    name: str(r.name),
    user: str(r.user),
    memoryBytes: num(r.mem),
    command: str(r.cmd) || str(r.name),
    startedAt: typeof r.start === "number" ? r.start : null,
    cpuTimeMs: num(r.cpu) / 10_000,
  }));
}

/** `taskkill /PID n /F` (and `/T` for the tree: taskkill then ends the children itself). */
export function taskkillArgv(pid: number, tree: boolean): string[] {
  return ["taskkill.exe", "/PID", String(pid), ...(tree ? ["/T"] : []), "/F"];
}

/**
 * Win32_Service: name, display name, description, state, start mode, process id; only the services
 * named in `$env:SP_NAMES` (one per line, by name or display name, case-insensitive) when it is set.
 */
export const SERVICES_SCRIPT = `$names = if ($env:SP_NAMES) { $env:SP_NAMES -split "\`n" } else { $null }
@(Get-CimInstance Win32_Service | Where-Object { -not $names -or $names -contains $_.Name -or $names -contains $_.DisplayName } |
  Select-Object Name,DisplayName,Description,State,StartMode,ProcessId) | ConvertTo-Json -Compress`;

const STATE: Record<string, ServiceState> = {
  Running: "running",
  Stopped: "stopped",
  "Start Pending": "starting",
  "Stop Pending": "stopping",
  "Continue Pending": "starting",
  "Pause Pending": "stopping",
  Paused: "stopped",
  // Get-Service's numeric ServiceControllerStatus, as ConvertTo-Json prints it
  "1": "stopped",
  "2": "starting",
  "3": "stopping",
  "4": "running",
  "5": "starting",
  "6": "stopping",
  "7": "stopped",
};
const STARTUP: Record<string, StartupType> = {
  Auto: "auto",
  Automatic: "auto",
  Boot: "auto",
  System: "auto",
  Manual: "manual",
  Disabled: "disabled",
  // Get-Service's numeric ServiceStartMode
  "0": "auto",
  "1": "auto",
  "2": "auto",
  "3": "manual",
  "4": "disabled",
};

/** Parses Win32_Service rows (SERVICES_SCRIPT) or `Get-Service | ConvertTo-Json` rows. */
export function parseWindowsServices(text: string): ServiceInfo[] {
  return jsonRows(text, "service list")
    .map((r) => {
      const name = str(r.Name) || str(r.ServiceName);
      const pid = num(r.ProcessId);
      return {
        name: name.slice(0, 256),
        displayName: (str(r.DisplayName) || name).slice(0, 512),
        description: str(r.Description).slice(0, 1024),
        state: STATE[String(r.State ?? r.Status)] ?? "unknown",
        startup: STARTUP[String(r.StartMode ?? r.StartType)] ?? "unknown",
        pid: pid > 0 ? pid : null,
      };
    })
    .filter((s) => s.name)
    .slice(0, MAX_SERVICES);
}

/** One service's action, then its row; exit 3 when there is no such service. The name is `$env:SP_NAME`. */
export function serviceActionScript(action: ServiceAction): string {
  const verb = {
    start: "Start-Service -Name $env:SP_NAME -ErrorAction Stop",
    stop: "Stop-Service -Name $env:SP_NAME -Force -ErrorAction Stop",
    restart: "Restart-Service -Name $env:SP_NAME -Force -ErrorAction Stop",
    enable: "Set-Service -Name $env:SP_NAME -StartupType Automatic -ErrorAction Stop",
    disable: "Set-Service -Name $env:SP_NAME -StartupType Disabled -ErrorAction Stop",
  }[action];
  return `if (-not (Get-Service -Name $env:SP_NAME -ErrorAction SilentlyContinue)) { exit 3 }
${verb}
@(Get-CimInstance Win32_Service -Filter ("Name='" + $env:SP_NAME.Replace("'", "''") + "'") | Select-Object Name,DisplayName,Description,State,StartMode,ProcessId) | ConvertTo-Json -Compress`;
}

/**
 * Events of a log, levels 1-3 (or 1-4), newest first, filtered by time and literal text; at most
 * SP_LIMIT + 1, each with Get-WinEvent's own property names and values (TimeCreated as
 * ConvertTo-Json writes a date: "\/Date(ms)\/" in Windows PowerShell 5.1, ISO 8601 in 7).
 */
export const EVENTS_SCRIPT = `$f = @{ LogName = $env:SP_LOG; Level = [int[]]($env:SP_LEVELS -split ',') }
if ($env:SP_SINCE) { $f.StartTime = [DateTimeOffset]::FromUnixTimeMilliseconds([long]$env:SP_SINCE).LocalDateTime }
if ($env:SP_UNTIL) { $f.EndTime = [DateTimeOffset]::FromUnixTimeMilliseconds([long]$env:SP_UNTIL).LocalDateTime }
if ($env:SP_SOURCE) { $f.ProviderName = $env:SP_SOURCE }
$like = if ($env:SP_Q) { '*' + [Management.Automation.WildcardPattern]::Escape($env:SP_Q) + '*' } else { '*' }
@(Get-WinEvent -FilterHashtable $f -ErrorAction SilentlyContinue | Where-Object { $_.Message -like $like } |
  Select-Object -First ([int]$env:SP_LIMIT + 1) | Select-Object Id,Level,ProviderName,ProcessId,TimeCreated,Message) | ConvertTo-Json -Compress`;

/** Windows event levels: 1 critical, 2 error, 3 warning, 4 and 0 information, 5 verbose. */
const LEVELS = { error: "1,2", warning: "1,2,3", info: "0,1,2,3,4" } as const;

function eventLevel(n: number): EventLevel {
  return n === 1 ? "critical" : n === 2 ? "error" : n === 3 ? "warning" : n === 5 ? "debug" : "info";
}

/** The environment SP_* variables EVENTS_SCRIPT reads for a query. */
export function eventsEnv(q: EventQuery): Record<string, string> {
  return {
    SP_LOG: q.log ?? "System",
    SP_LEVELS: LEVELS[q.level],
    SP_LIMIT: String(q.limit),
    SP_SINCE: q.since === undefined ? "" : String(q.since),
    SP_UNTIL: q.until === undefined ? "" : String(q.until),
    SP_SOURCE: q.unit ?? "",
    SP_Q: q.q ?? "",
  };
}

/** A date as ConvertTo-Json writes it: "/Date(ms)/" (Windows PowerShell 5.1) or ISO 8601 (PowerShell 7); 0 when neither. */
export function psDate(v: unknown): number {
  const text = str(v);
  const ms = /^\/Date\((-?\d+)\)\/$/.exec(text)?.[1];
  if (ms) return Number(ms);
  const parsed = Date.parse(text);
  return Number.isFinite(parsed) ? parsed : 0;
}

/** Parses the rows of `Get-WinEvent … | Select-Object Id,Level,ProviderName,ProcessId,TimeCreated,Message | ConvertTo-Json` (EVENTS_SCRIPT). */
export function parseWindowsEvents(text: string, limit: number): EventLogList {
  const rows = jsonRows(text, "events");
  const items: EventEntry[] = rows.slice(0, limit).map((r) => {
    const pid = num(r.ProcessId);
    return {
      time: psDate(r.TimeCreated),
      level: eventLevel(num(r.Level)),
      source: str(r.ProviderName).slice(0, 256),
      message: str(r.Message).slice(0, MAX_MESSAGE_CHARS),
      eventId: num(r.Id),
      ...(pid > 0 ? { pid } : {}),
    };
  });
  return { source: "windows", items, more: rows.length > limit };
}

/** Machine variables, then each loaded user hive's (HKU:\\<SID>\\Environment) with the account name. */
export const ENVIRONMENT_SCRIPT = `$out = [Collections.Generic.List[object]]::new()
$m = [Environment]::GetEnvironmentVariables('Machine')
foreach ($k in $m.Keys) { $out.Add([pscustomobject]@{ scope = 'system'; key = $k; value = [string]$m[$k] }) }
Get-ChildItem Registry::HKEY_USERS -ErrorAction SilentlyContinue | Where-Object { $_.PSChildName -match '^S-1-5-21-[\\d-]+$' } | ForEach-Object {
  $sid = $_.PSChildName
  $user = try { (New-Object Security.Principal.SecurityIdentifier($sid)).Translate([Security.Principal.NTAccount]).Value } catch { $sid }
  $key = Get-Item "Registry::HKEY_USERS\\$sid\\Environment" -ErrorAction SilentlyContinue
  if ($key) { foreach ($n in $key.GetValueNames()) { $out.Add([pscustomobject]@{ scope = 'user'; user = $user; key = $n; value = [string]$key.GetValue($n, $null, 'DoNotExpandEnvironmentNames') }) } }
}
@($out) | ConvertTo-Json -Compress`;

function parseWindowsEnvironment(text: string): EnvVar[] {
  return jsonRows(text, "environment")
    .map((r) => ({
      scope: r.scope === "user" ? ("user" as const) : ("system" as const),
      ...(r.scope === "user" ? { user: str(r.user).slice(0, 256) } : {}),
      key: str(r.key).slice(0, 256),
      value: str(r.value).slice(0, 8192),
    }))
    .filter((v) => v.key)
    .slice(0, MAX_ENV_VARS);
}

async function powershell(script: string, what: string, env?: Record<string, string>, timeoutMs = 30_000): Promise<string> {
  const r = await run(powershellArgv(script), { env, timeoutMs });
  if (r.exitCode !== 0) throw new ToolboxError("COMMAND_FAILED", `${what} failed: ${firstLine(r.stderr)}`);
  return r.stdout;
}

/** Microsoft Defender's status as the cmdlet prints it (Format-List: "Name : value" lines). */
export const DEFENDER_SCRIPT = "Get-MpComputerStatus -ErrorAction Stop | Format-List";

/** "Name : value" lines of PowerShell's Format-List into a map. */
export function parseFormatList(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\w+)\s*:\s?(.*)$/.exec(line);
    if (m?.[1]) out.set(m[1], (m[2] ?? "").trim());
  }
  return out;
}

/**
 * Defender from `Get-MpComputerStatus | Format-List`. Its dates follow the machine's locale, so the
 * definitions' age comes from AntivirusSignatureAge (whole days, locale-free): updated that many
 * days before `now`. Protection is on when the service and the antivirus are enabled.
 */
export function parseDefender(text: string, now: number): AntivirusStatus | undefined {
  const p = parseFormatList(text);
  if (!p.has("AntivirusEnabled")) return undefined;
  const bool = (k: string) => (p.get(k) === "True" ? true : p.get(k) === "False" ? false : null);
  const age = Number(p.get("AntivirusSignatureAge"));
  // 65535 / 4294967295 mean "never updated"
  const updated = Number.isInteger(age) && age >= 0 && age < 65535 ? now - age * 86_400_000 : null;
  const service = bool("AMServiceEnabled");
  const av = bool("AntivirusEnabled");
  return {
    product: "Microsoft Defender Antivirus",
    enabled: service === null || av === null ? null : service && av,
    realTime: bool("RealTimeProtectionEnabled"),
    definitions: (p.get("AntivirusSignatureVersion") ?? "").slice(0, 128) || null,
    definitionsUpdatedAt: updated,
    outdated: updated === null || now - updated > MAX_DEFINITIONS_AGE_MS,
  };
}

/**
 * Other antivirus products registered in Security Center (root/SecurityCenter2, client editions
 * only): productState's bits 12-15 say whether it is on, bits 4-7 whether its definitions are current.
 */
export const SECURITY_CENTER_SCRIPT = `@(Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct -ErrorAction SilentlyContinue | Where-Object { $_.displayName -notlike '*Defender*' } | Select-Object displayName,productState) | ConvertTo-Json -Compress`;

function parseSecurityCenter(text: string): AntivirusStatus[] {
  return jsonRows(text, "antivirus products")
    .map((r) => {
      const state = num(r.productState);
      return {
        product: str(r.displayName).slice(0, 128),
        enabled: ((state >> 12) & 0xf) === 1,
        realTime: null,
        definitions: null,
        definitionsUpdatedAt: null,
        outdated: ((state >> 4) & 0xf) !== 0,
      };
    })
    .filter((a) => a.product)
    .slice(0, 15);
}

/**
 * ACPI thermal zones (MSAcpi_ThermalZoneTemperature, tenths of kelvin; needs the agent's
 * administrator rights) and batteries: Win32_Battery's charge, with full-charge and design
 * capacity and cycle count from root/wmi where the firmware reports them.
 */
export const HARDWARE_SCRIPT = `[pscustomobject]@{
  zones = @(Get-CimInstance -Namespace root/wmi -ClassName MSAcpi_ThermalZoneTemperature -ErrorAction SilentlyContinue | Select-Object InstanceName,CurrentTemperature,CriticalTripPoint)
  batteries = @(Get-CimInstance Win32_Battery -ErrorAction SilentlyContinue | Select-Object DeviceID,Name,EstimatedChargeRemaining,BatteryStatus)
  full = @(Get-CimInstance -Namespace root/wmi -ClassName BatteryFullChargedCapacity -ErrorAction SilentlyContinue | Select-Object FullChargedCapacity)
  design = @(Get-CimInstance -Namespace root/wmi -ClassName BatteryStaticData -ErrorAction SilentlyContinue | Select-Object DesignedCapacity)
  cycles = @(Get-CimInstance -Namespace root/wmi -ClassName BatteryCycleCount -ErrorAction SilentlyContinue | Select-Object CycleCount)
} | ConvertTo-Json -Compress -Depth 3`;

/** Win32_Battery's BatteryStatus codes. */
const BATTERY_STATUS: Record<number, string> = {
  1: "Discharging",
  2: "AC power",
  3: "Fully charged",
  4: "Low",
  5: "Critical",
  6: "Charging",
  7: "Charging (high)",
  8: "Charging (low)",
  9: "Charging (critical)",
  10: "Undefined",
  11: "Partially charged",
};

/** Parses HARDWARE_SCRIPT: thermal zones in °C (from tenths of kelvin) and batteries with health against design. */
function parseWindowsHardware(text: string): Pick<HealthReport, "sensors" | "batteries"> {
  const [root] = jsonRows(text, "hardware");
  const list = (v: unknown): Row[] => (Array.isArray(v) ? v.filter((r): r is Row => typeof r === "object" && r !== null) : []);
  const kelvin = (tenths: number) => Math.round((tenths / 10 - 273.15) * 10) / 10;
  const sensors: HealthReport["sensors"] = list(root?.zones)
    .filter((z) => num(z.CurrentTemperature) > 0)
    .slice(0, 64)
    .map((z) => ({
      chip: "ACPI thermal zone",
      label: str(z.InstanceName).slice(0, 128) || "zone",
      kind: "temperature" as const,
      value: kelvin(num(z.CurrentTemperature)),
      ...(num(z.CriticalTripPoint) > 0 ? { critical: kelvin(num(z.CriticalTripPoint)) } : {}),
    }));
  const full = list(root?.full);
  const design = list(root?.design);
  const cycles = list(root?.cycles);
  const batteries: HealthReport["batteries"] = list(root?.batteries)
    .slice(0, 8)
    .map((b, i) => {
      const f = num(full[i]?.FullChargedCapacity);
      const d = num(design[i]?.DesignedCapacity);
      const charge = b.EstimatedChargeRemaining;
      return {
        name: (str(b.Name) || str(b.DeviceID) || `Battery ${i + 1}`).slice(0, 128),
        status: BATTERY_STATUS[num(b.BatteryStatus)] ?? "Unknown",
        chargePercent: typeof charge === "number" ? charge : null,
        healthPercent: f > 0 && d > 0 ? Math.round((f / d) * 1000) / 10 : null,
        cycleCount: typeof cycles[i]?.CycleCount === "number" ? (cycles[i]?.CycleCount as number) : null,
      };
    });
  return { sensors, batteries };
}

export const windowsToolbox: PlatformToolbox = {
  processes: async () => parseWindowsProcesses(await powershell(PROCESSES_SCRIPT, "process list")),
  kill: async (pids, signal) => {
    if (signal !== "TERM" && signal !== "KILL")
      throw new ToolboxError("UNSUPPORTED", `Windows cannot send SIG${signal}; it only terminates`);
    // the tree arrives children first; the root (last) with /T ends any child born meanwhile
    const killed: number[] = [];
    for (const pid of pids) {
      const r = await run(taskkillArgv(pid, pid === pids.at(-1) && pids.length > 1));
      if (r.exitCode === 0) killed.push(pid);
    }
    return killed;
  },
  services: async (names) => ({
    manager: "windows",
    items: parseWindowsServices(await powershell(SERVICES_SCRIPT, "service list", names ? { SP_NAMES: names.join("\n") } : undefined)),
  }),
  serviceAction: async (name, action) => {
    const r = await run(powershellArgv(serviceActionScript(action)), { env: { SP_NAME: name }, timeoutMs: 90_000 });
    if (r.exitCode === 3) throw new ToolboxError("NO_SUCH_SERVICE", `no service ${name} on this device`);
    if (r.exitCode !== 0) throw new ToolboxError("ACTION_FAILED", `${action} ${name} failed: ${firstLine(r.stderr)}`);
    return { manager: "windows", service: parseWindowsServices(r.stdout)[0] ?? null };
  },
  eventLogs: async (q) => parseWindowsEvents(await powershell(EVENTS_SCRIPT, "event log", eventsEnv(q), 30_000), q.limit),
  environment: async () => ({ items: parseWindowsEnvironment(await powershell(ENVIRONMENT_SCRIPT, "environment")) }),
  health: async () => {
    const [{ disks, notes }, defender, others, hardware] = await Promise.all([
      smartDisks("smartctl.exe"),
      run(powershellArgv(DEFENDER_SCRIPT), { timeoutMs: 30_000, maxBytes: 65_536 }),
      run(powershellArgv(SECURITY_CENTER_SCRIPT), { timeoutMs: 30_000, maxBytes: 65_536 }),
      run(powershellArgv(HARDWARE_SCRIPT), { timeoutMs: 30_000, maxBytes: 262_144 }),
    ]);
    const now = Date.now();
    const antivirus: AntivirusStatus[] = [];
    const mp = defender.exitCode === 0 ? parseDefender(defender.stdout, now) : undefined;
    if (mp) antivirus.push(mp);
    else notes.push(`Microsoft Defender status not read: ${firstLine(defender.stderr) || "no Get-MpComputerStatus"}`.slice(0, 512));
    if (others.exitCode === 0) antivirus.push(...parseSecurityCenter(others.stdout));
    let hw: Pick<HealthReport, "sensors" | "batteries"> = { sensors: [], batteries: [] };
    try {
      if (hardware.exitCode === 0) hw = parseWindowsHardware(hardware.stdout);
    } catch (err) {
      notes.push(`temperatures and batteries not read: ${String(err)}`.slice(0, 512));
    }
    if (hw.sensors.length === 0) notes.push("no ACPI thermal zone reports a temperature on this machine; fans are not read on Windows");
    return { sensors: hw.sensors, disks, batteries: hw.batteries, antivirus, notes };
  },
};
