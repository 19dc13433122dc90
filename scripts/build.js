#!/usr/bin/env node
// Compiles the TypeScript and assembles dist/nodes the way Node-RED loads it:
// each node's .js beside its .html, with locales/ and icons/ next to them.
// tsc copies none of the non-TypeScript files, and a node without its .html silently
// vanishes from the palette, so the build fails on any mismatch instead.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const distNodes = path.join(dist, 'nodes');

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], {
    stdio: 'inherit',
  });
} catch {
  fail('tsc reported errors');
}

fs.mkdirSync(distNodes, { recursive: true });
for (const entry of fs.readdirSync(path.join(root, 'nodes'))) {
  fs.cpSync(path.join(root, 'nodes', entry), path.join(distNodes, entry), { recursive: true });
}
fs.cpSync(path.join(root, 'icons'), path.join(distNodes, 'icons'), { recursive: true });

const declared = require(path.join(root, 'package.json'))['node-red'].nodes;
const declaredFiles = new Set(Object.values(declared).map((file) => path.resolve(root, file)));
for (const [type, file] of Object.entries(declared)) {
  const js = path.resolve(root, file);
  const html = js.replace(/\.js$/, '.html');
  if (!fs.existsSync(js)) fail(`${type}: ${file} was not built`);
  if (!fs.existsSync(html)) fail(`${type}: ${path.relative(root, html)} is missing (copy nodes/${type}.html)`);
  const source = fs.readFileSync(html, 'utf8');
  if (!source.includes(`RED.nodes.registerType('${type}'`)) fail(`${type}: its .html does not register '${type}'`);
  const locale = path.join(distNodes, 'locales', 'en-US', `${type}.json`);
  if (!fs.existsSync(locale)) fail(`${type}: locales/en-US/${type}.json is missing`);
}
for (const file of fs.readdirSync(distNodes)) {
  if (/^roboflow-.*\.js$/.test(file) && !declaredFiles.has(path.join(distNodes, file))) {
    fail(`dist/nodes/${file} is built but not listed in package.json "node-red".nodes`);
  }
}
console.log(`build: ${Object.keys(declared).length} node(s) assembled in dist/nodes`);
