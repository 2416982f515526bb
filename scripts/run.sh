#!/usr/bin/env bash
# Entry point behind `npm start`, `npm test`, `npm run bench` and `npm run check`. Makes the
# machine ready first (Node >= 22, dependencies, a Chromium for the browser tests), so each of
# these works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

ensure_deps() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "cairn: installing dependencies (npm ci)" >&2
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

ensure_browser() {
  if node --input-type=module -e "import { findChromium } from './scripts/browser.ts'; process.exit(findChromium() ? 0 : 1)"; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "cairn: no Chromium found; installing Debian's chromium package" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    node --input-type=module -e "import { NO_BROWSER_MESSAGE } from './scripts/browser.ts'; console.error(NO_BROWSER_MESSAGE)"
    exit 1
  fi
}

static_checks() {
  echo "== format (prettier)" && npx prettier --check . --log-level warn
  echo "== lint (eslint)" && npx eslint --max-warnings 0 .
  echo "== typecheck (tsc, svelte-check)"
  npx svelte-kit sync >/dev/null
  for p in packages/*/tsconfig.json relay/tsconfig.json scripts/tsconfig.json tests/tsconfig.json; do npx tsc -p "$p" --noEmit; done
  npx svelte-check --tsconfig ./tsconfig.json --fail-on-warnings --output human
}

cmd="${1:-test}"
shift || true
case "$cmd" in
  test)
    ensure_deps
    ensure_browser
    static_checks
    echo "== build (vite build, adapter-static)" && npx vite build --logLevel warn
    echo "== tests (vitest: node + chromium)"
    mkdir -p artifacts
    status=0
    bash scripts/netns.sh npx vitest run --reporter=default --reporter=json --outputFile.json=artifacts/vitest.json "$@" || status=$?
    node scripts/summary.ts artifacts/vitest.json || status=1
    exit $status
    ;;
  check)
    ensure_deps
    static_checks
    ;;
  bench)
    ensure_deps
    ensure_browser
    bash scripts/netns.sh node scripts/bench.ts "$@"
    ;;
  start)
    ensure_deps
    npx vite build --logLevel warn
    node scripts/start.ts "$@"
    ;;
  *)
    echo "usage: scripts/run.sh test|check|bench|start" >&2
    exit 2
    ;;
esac
