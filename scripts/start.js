#!/usr/bin/env node
// `npm start`: Node-RED 4 from node_modules with this package loaded.
// `npm run demo`: the simulator on :9001 plus Node-RED with the demo flow already deployed.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const demo = process.argv.includes('--demo');
const env = { ...process.env };
const children = [];

function run(command, args, options = {}) {
  const child = spawn(command, args, { stdio: 'inherit', cwd: root, env, ...options });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${path.basename(args[0] || command)} exited (${signal || code}); stopping`);
      stop(code || 1);
    }
  });
  return child;
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

if (demo) {
  const userDir = path.join(root, '.node-red', 'demo');
  fs.mkdirSync(userDir, { recursive: true });
  fs.copyFileSync(path.join(root, 'examples', 'demo.json'), path.join(userDir, 'flows.json'));
  env.NODE_RED_USER_DIR = userDir;
  env.NODE_RED_CREDENTIAL_SECRET = env.NODE_RED_CREDENTIAL_SECRET || 'inference-red-demo';
  // The demo flow talks to http://localhost:9001; PORT is Node-RED's, not the simulator's.
  run(process.execPath, [require.resolve('tsx/cli'), path.join(root, 'test', 'simulator', 'cli.ts'), '--port', '9001']);
}
run(process.execPath, [
  path.join(root, 'node_modules', 'node-red', 'red.js'),
  '--settings',
  path.join(root, 'scripts', 'node-red-settings.js'),
]);
