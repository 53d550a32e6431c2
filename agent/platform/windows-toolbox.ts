import type {
  AntivirusStatus,
  EnvVar,
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

/** Win32_Service: name, display name, description, state, start mode, process id. */
export const SERVICES_SCRIPT = `@(Get-CimInstance Win32_Service | Select-Object Name,DisplayName,Description,State,StartMode,ProcessId) | ConvertTo-Json -Compress`;

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
function parseWindowsServices(text: string): ServiceInfo[] {
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

/** Events of a log, levels 1-3 (or 1-4), newest first, filtered by time and literal text; at most SP_LIMIT + 1. */
export const EVENTS_SCRIPT = `$f = @{ LogName = $env:SP_LOG; Level = [int[]]($env:SP_LEVELS -split ',') }
if ($env:SP_SINCE) { $f.StartTime = [DateTimeOffset]::FromUnixTimeMilliseconds([long]$env:SP_SINCE).LocalDateTime }
if ($env:SP_UNTIL) { $f.EndTime = [DateTimeOffset]::FromUnixTimeMilliseconds([long]$env:SP_UNTIL).LocalDateTime }
if ($env:SP_SOURCE) { $f.ProviderName = $env:SP_SOURCE }
$like = if ($env:SP_Q) { '*' + [Management.Automation.WildcardPattern]::Escape($env:SP_Q) + '*' } else { '*' }
@(Get-WinEvent -FilterHashtable $f -ErrorAction SilentlyContinue | Where-Object { $_.Message -like $like } |
  Select-Object -First ([int]$env:SP_LIMIT + 1) | ForEach-Object {
    [pscustomobject]@{ time = ([DateTimeOffset]$_.TimeCreated).ToUnixTimeMilliseconds(); level = [int]$_.Level; source = $_.ProviderName; id = [int]$_.Id; pid = $_.ProcessId; message = $_.Message }
  }) | ConvertTo-Json -Compress`;

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

/** Parses EVENTS_SCRIPT rows, or the rows of `Get-WinEvent | Select-Object TimeCreated,Level,ProviderName,Id,Message | ConvertTo-Json`. */
function parseWindowsEvents(text: string, limit: number): EventLogList {
  const rows = jsonRows(text, "events");
  const items: EventEntry[] = rows.slice(0, limit).map((r) => {
    const created = typeof r.time === "number" ? r.time : Number(/\/Date\((\d+)\)\//.exec(str(r.TimeCreated))?.[1] ?? 0);
    const pid = num(r.pid ?? r.ProcessId);
    return {
      time: created,
      level: eventLevel(num(r.level ?? r.Level)),
      source: (str(r.source) || str(r.ProviderName)).slice(0, 256),
      message: (str(r.message) || str(r.Message)).slice(0, MAX_MESSAGE_CHARS),
      eventId: num(r.id ?? r.Id),
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

/**
 * Microsoft Defender (Get-MpComputerStatus) and the antivirus products registered in Security Center
 * (root/SecurityCenter2 AntiVirusProduct; Windows client editions only), with times as epoch ms.
 */
export const ANTIVIRUS_SCRIPT = `$out = [Collections.Generic.List[object]]::new()
try { $m = Get-MpComputerStatus -ErrorAction Stop
  $out.Add([pscustomobject]@{ product = 'Microsoft Defender Antivirus'; enabled = [bool]$m.AntivirusEnabled; realTime = [bool]$m.RealTimeProtectionEnabled
    definitions = [string]$m.AntivirusSignatureVersion; updated = ([DateTimeOffset]$m.AntivirusSignatureLastUpdated).ToUnixTimeMilliseconds() }) } catch {}
Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct -ErrorAction SilentlyContinue | Where-Object { $_.displayName -notlike '*Defender*' } | ForEach-Object {
  $state = [int]$_.productState
  $out.Add([pscustomobject]@{ product = $_.displayName; enabled = (($state -shr 12) -band 0xF) -eq 1; realTime = $null; definitions = $null; updated = $null; upToDate = (($state -shr 4) -band 0xF) -eq 0 }) }
@($out) | ConvertTo-Json -Compress`;

function parseWindowsAntivirus(text: string, now: number): AntivirusStatus[] {
  return jsonRows(text, "antivirus")
    .map((r) => {
      const updated = typeof r.updated === "number" ? r.updated : null;
      return {
        product: str(r.product).slice(0, 128),
        enabled: typeof r.enabled === "boolean" ? r.enabled : null,
        realTime: typeof r.realTime === "boolean" ? r.realTime : null,
        definitions: str(r.definitions).slice(0, 128) || null,
        definitionsUpdatedAt: updated,
        outdated: updated !== null ? now - updated > MAX_DEFINITIONS_AGE_MS : r.upToDate === false,
      };
    })
    .filter((a) => a.product)
    .slice(0, 16);
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
  services: async () => ({ manager: "windows", items: parseWindowsServices(await powershell(SERVICES_SCRIPT, "service list")) }),
  serviceAction: async (name, action) => {
    const r = await run(powershellArgv(serviceActionScript(action)), { env: { SP_NAME: name }, timeoutMs: 90_000 });
    if (r.exitCode === 3) throw new ToolboxError("NO_SUCH_SERVICE", `no service ${name} on this device`);
    if (r.exitCode !== 0) throw new ToolboxError("ACTION_FAILED", `${action} ${name} failed: ${firstLine(r.stderr)}`);
    return { manager: "windows", service: parseWindowsServices(r.stdout)[0] ?? null };
  },
  eventLogs: async (q) => parseWindowsEvents(await powershell(EVENTS_SCRIPT, "event log", eventsEnv(q), 30_000), q.limit),
  environment: async () => ({ items: parseWindowsEnvironment(await powershell(ENVIRONMENT_SCRIPT, "environment")) }),
  health: async () => {
    const [{ disks, notes }, av] = await Promise.all([
      smartDisks("smartctl.exe"),
      run(powershellArgv(ANTIVIRUS_SCRIPT), { timeoutMs: 30_000 }),
    ]);
    const antivirus = av.exitCode === 0 ? parseWindowsAntivirus(av.stdout, Date.now()) : [];
    if (av.exitCode !== 0) notes.push(`antivirus status not read: ${firstLine(av.stderr)}`.slice(0, 512));
    return {
      sensors: [],
      disks,
      batteries: [],
      antivirus,
      notes: [...notes, "temperatures, fans and battery are not read on Windows yet"],
    };
  },
};
