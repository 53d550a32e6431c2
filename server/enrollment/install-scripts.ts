import { LZMA_DECODER_CS } from "./lzma-decoder.ts";

/** One-line install commands for an enrollment token, served by this server. */
export function installCommands(publicUrl: string, token: string): { linux: string; macos: string; windows: string } {
  const sh = `curl -fsSL ${publicUrl}/install.sh | sudo sh -s -- --token ${token}`;
  return {
    linux: sh,
    macos: sh,
    windows: `powershell -NoProfile -ExecutionPolicy Bypass -Command "& ([scriptblock]::Create((Invoke-WebRequest -UseBasicParsing '${publicUrl}/install.ps1').Content)) -Token '${token}'"`,
  };
}

/**
 * POSIX shell installer for Linux and macOS: download the agent (xz where `xz` is installed; an
 * xz-compressed tar where `tar` reads xz itself, as macOS's does; else gzip; resumed with Range after a
 * cut), check its SHA-256 against the server's list, enroll it, install the service. `--download-only
 * PATH` stops after the checked download (no root needed).
 */
export function installSh(publicUrl: string): string {
  return `#!/bin/sh
# SENTpulse agent installer for Linux and macOS.
# Usage: sh install.sh --token TOKEN [--tag key=value]...   or   sh install.sh --download-only PATH
set -eu
SERVER='${publicUrl}'
TOKEN=''
TAGS=''
ONLY=''
while [ $# -gt 0 ]; do
  case "$1" in
    --token) TOKEN="$2"; shift 2 ;;
    --tag) TAGS="$TAGS --tag $2"; shift 2 ;;
    --download-only) ONLY="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$ONLY" ]; then
  [ -n "$TOKEN" ] || { echo "--token is required" >&2; exit 2; }
  [ "$(id -u)" = 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
fi
case "$(uname -s)" in Linux) OS=linux ;; Darwin) OS=darwin ;; *) echo "unsupported OS $(uname -s)" >&2; exit 1 ;; esac
case "$(uname -m)" in x86_64|amd64) ARCH=x64 ;; aarch64|arm64) ARCH=arm64 ;; *) echo "unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
NAME="sentpulse-agent-$OS-$ARCH"
BIN=\${ONLY:-/usr/local/bin/sentpulse-agent}
mkdir -p "$(dirname "$BIN")"
TMP="$BIN.download"
EXPECTED=$(curl -fsSL "$SERVER/download/agent/SHA256SUMS" | awk -v f="$NAME" '$2 == f { print $1 }')
[ -n "$EXPECTED" ] || { echo "the server has no agent for $OS-$ARCH" >&2; exit 1; }
fetch() { # compression: resumes a partial file left by an earlier attempt
  echo "downloading the agent for $OS-$ARCH ($1)"
  curl -fSL --retry 5 --retry-delay 2 -C - -o "$TMP.$1" "$SERVER/download/agent/$OS-$ARCH?compression=$1"
}
if command -v xz >/dev/null 2>&1 && fetch xz 2>/dev/null; then
  xz -dc "$TMP.xz" > "$TMP"
elif tar --version 2>/dev/null | grep -q liblzma && fetch txz 2>/dev/null; then
  tar -xOf "$TMP.txz" sentpulse-agent > "$TMP"
else
  fetch gzip
  gzip -dc "$TMP.gzip" > "$TMP"
fi
if command -v sha256sum >/dev/null 2>&1; then ACTUAL=$(sha256sum "$TMP" | cut -d' ' -f1); else ACTUAL=$(shasum -a 256 "$TMP" | cut -d' ' -f1); fi
rm -f "$TMP.xz" "$TMP.txz" "$TMP.gzip"
if [ "$ACTUAL" != "$EXPECTED" ]; then
  rm -f "$TMP"
  echo "checksum mismatch for $NAME: got $ACTUAL, the server lists $EXPECTED; nothing installed" >&2
  exit 1
fi
chmod 0755 "$TMP"
mv -f "$TMP" "$BIN"
if [ -n "$ONLY" ]; then echo "downloaded and checked: $BIN"; exit 0; fi
"$BIN" enroll --server "$SERVER" --token "$TOKEN" $TAGS
"$BIN" install
echo "SENTpulse agent installed and running."
`;
}

/**
 * PowerShell installer for Windows: download the agent as BCJ2 + LZMA (a third of the binary; Windows
 * PowerShell 5.1 reads only gzip and Windows 10's tar.exe has no liblzma, so the script compiles its own
 * decoder with Add-Type: server/enrollment/lzma-decoder.ts), or gzip from a server without that copy,
 * check the binary's SHA-256 against the server's list, enroll it, install the service.
 */
export function installPs1(publicUrl: string): string {
  return `# SENTpulse agent installer for Windows (run as Administrator).
param([Parameter(Mandatory = $true)][string]$Token, [string[]]$Tag = @())
$ErrorActionPreference = 'Stop'
# Windows PowerShell's progress bar slows a large Invoke-WebRequest many times over
$ProgressPreference = 'SilentlyContinue'
$Server = '${publicUrl}'
$Dir = Join-Path $env:ProgramFiles 'SENTpulse'
New-Item -ItemType Directory -Force -Path $Dir | Out-Null
$Bin = Join-Path $Dir 'sentpulse-agent.exe'
$Tmp = "$Bin.download"
$Sums = (Invoke-WebRequest -UseBasicParsing -Uri "$Server/download/agent/SHA256SUMS").Content -split "\\n"
$Expected = ($Sums | Where-Object { $_ -match '  sentpulse-agent-windows-x64\\.exe$' } | Select-Object -First 1) -replace '  .*$', ''
if (-not $Expected) { throw "the server has no agent for windows-x64" }
$LzmaDecoder = @'
${LZMA_DECODER_CS}'@
try {
  Write-Host 'downloading the agent for windows-x64 (bcj2)'
  Invoke-WebRequest -UseBasicParsing -Uri "$Server/download/agent/windows-x64?compression=bcj2" -OutFile "$Tmp.bcj2"
  if (-not ('SentpulseLzma' -as [type])) { Add-Type -TypeDefinition $LzmaDecoder -Language CSharp }
  [SentpulseLzma]::DecodeBcj2("$Tmp.bcj2", $Tmp) | Out-Null
} catch {
  # a server without the BCJ2 copy (404), or no C# compiler: the gzip copy, which every server has
  Write-Host "bcj2 unavailable ($($_.Exception.Message)); downloading the agent for windows-x64 (gzip)"
  Invoke-WebRequest -UseBasicParsing -Uri "$Server/download/agent/windows-x64?compression=gzip" -OutFile "$Tmp.gz"
  $In = [System.IO.File]::OpenRead("$Tmp.gz")
  $Out = [System.IO.File]::Create($Tmp)
  try { $Gz = New-Object System.IO.Compression.GZipStream($In, [System.IO.Compression.CompressionMode]::Decompress); $Gz.CopyTo($Out) }
  finally { $Out.Dispose(); $In.Dispose() }
} finally {
  Remove-Item -Force -ErrorAction SilentlyContinue "$Tmp.bcj2", "$Tmp.gz"
}
$Actual = (Get-FileHash -Algorithm SHA256 $Tmp).Hash.ToLower()
if ($Actual -ne $Expected) { Remove-Item -Force $Tmp; throw "checksum mismatch: got $Actual, the server lists $Expected; nothing installed" }
Move-Item -Force $Tmp $Bin
$tagArgs = @(); foreach ($t in $Tag) { $tagArgs += @('--tag', $t) }
& $Bin enroll --server $Server --token $Token @tagArgs
if ($LASTEXITCODE -ne 0) { throw "enrollment failed" }
& $Bin install
if ($LASTEXITCODE -ne 0) { throw "service installation failed" }
Write-Host 'SENTpulse agent installed and running.'
`;
}
