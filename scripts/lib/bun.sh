#!/usr/bin/env bash
# Puts a Bun on PATH: the one installed, or one from the npm registry into .tools/ (only Node.js/npm needed).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if ! command -v bun >/dev/null 2>&1; then
  if [ ! -x "$ROOT/.tools/node_modules/.bin/bun" ]; then
    command -v npm >/dev/null 2>&1 || { echo "Neither bun nor npm found: install Node.js (with npm) or Bun first." >&2; exit 1; }
    echo "Installing Bun from the npm registry into .tools/ ..." >&2
    mkdir -p "$ROOT/.tools"
    # a package.json of its own, or npm would install into the project above
    [ -f "$ROOT/.tools/package.json" ] || echo '{"private":true}' >"$ROOT/.tools/package.json"
    (cd "$ROOT/.tools" && npm install --no-save --no-audit --no-fund --loglevel=error bun@1 >/dev/null) || { echo "could not install bun from npm" >&2; exit 1; }
  fi
  export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
  command -v bun >/dev/null 2>&1 || { echo "bun from npm is not runnable" >&2; exit 1; }
fi
cd "$ROOT"
if [ ! -d node_modules/elysia ] || [ package.json -nt node_modules/.installed ] || [ bun.lock -nt node_modules/.installed ]; then
  bun install --frozen-lockfile >&2 && touch node_modules/.installed
fi
