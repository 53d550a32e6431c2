/** One-line install commands for an enrollment token, served by this server. */
export function installCommands(publicUrl: string, token: string): { linux: string; macos: string; windows: string } {
  const sh = `curl -fsSL ${publicUrl}/install.sh | sudo sh -s -- --token ${token}`;
  return {
    linux: sh,
    macos: sh,
    windows: `powershell -NoProfile -ExecutionPolicy Bypass -Command "& ([scriptblock]::Create((Invoke-WebRequest -UseBasicParsing '${publicUrl}/install.ps1').Content)) -Token '${token}'"`,
  };
}

/** POSIX shell installer for Linux and macOS: download the agent, enroll it, install the service. */
export function installSh(publicUrl: string): string {
  return `#!/bin/sh
# SENTpulse agent installer for Linux and macOS. Usage: sh install.sh --token TOKEN [--tag key=value]...
set -eu
SERVER='${publicUrl}'
TOKEN=''
TAGS=''
while [ $# -gt 0 ]; do
  case "$1" in
    --token) TOKEN="$2"; shift 2 ;;
    --tag) TAGS="$TAGS --tag $2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[ -n "$TOKEN" ] || { echo "--token is required" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
case "$(uname -s)" in Linux) OS=linux ;; Darwin) OS=darwin ;; *) echo "unsupported OS $(uname -s)" >&2; exit 1 ;; esac
case "$(uname -m)" in x86_64|amd64) ARCH=x64 ;; aarch64|arm64) ARCH=arm64 ;; *) echo "unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
BIN=/usr/local/bin/sentpulse-agent
mkdir -p /usr/local/bin
TMP="$BIN.download.$$"
curl -fsSL "$SERVER/download/agent/$OS-$ARCH" -o "$TMP"
chmod 0755 "$TMP"
mv -f "$TMP" "$BIN"
"$BIN" enroll --server "$SERVER" --token "$TOKEN" $TAGS
"$BIN" install
echo "SENTpulse agent installed and running."
`;
}

/** PowerShell installer for Windows: download the agent, enroll it, install the service. */
export function installPs1(publicUrl: string): string {
  return `# SENTpulse agent installer for Windows (run as Administrator).
param([Parameter(Mandatory = $true)][string]$Token, [string[]]$Tag = @())
$ErrorActionPreference = 'Stop'
$Server = '${publicUrl}'
$Dir = Join-Path $env:ProgramFiles 'SENTpulse'
New-Item -ItemType Directory -Force -Path $Dir | Out-Null
$Bin = Join-Path $Dir 'sentpulse-agent.exe'
Invoke-WebRequest -UseBasicParsing -Uri "$Server/download/agent/windows-x64" -OutFile "$Bin.download"
Move-Item -Force "$Bin.download" $Bin
$tagArgs = @(); foreach ($t in $Tag) { $tagArgs += @('--tag', $t) }
& $Bin enroll --server $Server --token $Token @tagArgs
if ($LASTEXITCODE -ne 0) { throw "enrollment failed" }
& $Bin install
if ($LASTEXITCODE -ne 0) { throw "service installation failed" }
Write-Host 'SENTpulse agent installed and running.'
`;
}
