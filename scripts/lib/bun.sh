#!/usr/bin/env bash
# Puts the pinned Bun on PATH: the one installed if it is that version, else the same version from the
# npm registry into .tools/ (only Node.js/npm needed). Development, CI, the Dockerfile and the agent
# builds (which embed this runtime) all use this one version: `.bun-version`.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUN_VERSION="$(tr -d '[:space:]' <"$ROOT/.bun-version")"
if [ "$(bun --version 2>/dev/null)" != "$BUN_VERSION" ]; then
  if [ "$("$ROOT/.tools/node_modules/.bin/bun" --version 2>/dev/null)" != "$BUN_VERSION" ]; then
    command -v npm >/dev/null 2>&1 || { echo "Bun $BUN_VERSION not found and no npm to install it: install Node.js (with npm) or Bun $BUN_VERSION first." >&2; exit 1; }
    echo "Installing Bun $BUN_VERSION from the npm registry into .tools/ ..." >&2
    mkdir -p "$ROOT/.tools"
    # a package.json of its own, or npm would install into the project above
    [ -f "$ROOT/.tools/package.json" ] || echo '{"private":true}' >"$ROOT/.tools/package.json"
    (cd "$ROOT/.tools" && npm install --no-save --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION" >/dev/null) || { echo "could not install bun@$BUN_VERSION from npm" >&2; exit 1; }
  fi
  export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
  [ "$(bun --version 2>/dev/null)" = "$BUN_VERSION" ] || { echo "bun $BUN_VERSION from npm is not runnable" >&2; exit 1; }
fi
cd "$ROOT"
if [ ! -d node_modules/elysia ] || [ package.json -nt node_modules/.installed ] || [ bun.lock -nt node_modules/.installed ]; then
  bun install --frozen-lockfile >&2 && touch node_modules/.installed
fi
