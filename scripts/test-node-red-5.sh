#!/usr/bin/env bash
# The node tests again on Node-RED 5 (embedded; its CLI needs Node 22.9, the runtime loads on 20),
# installed beside the project so the development dependency stays Node-RED 4.
set -euo pipefail
cd "$(dirname "$0")/.."
compat=.node-red/compat-5
if [ ! -f "$compat/node_modules/node-red/package.json" ]; then
  mkdir -p "$compat"
  npm install --prefix "$compat" --no-save --no-audit --no-fund --loglevel=error node-red@5 >/dev/null
fi
echo "Node-RED $(node -p "require('./$compat/node_modules/node-red/package.json').version")"
NODE_RED_PATH="$PWD/$compat/node_modules/node-red/lib/red.js" npx mocha 'test/nodes/*.test.ts'
