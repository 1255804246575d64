#!/usr/bin/env node
// Runs every compiled test file with node's built-in runner. Kept as a script (not a glob on the
// command line) because Node 20's --test does not expand globs itself.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.length > 2 ? process.argv.slice(2) : ['dist/test', 'dist/spec-tests', 'dist/federation'];
const files = [];
function walk(p) {
  let st;
  try {
    st = statSync(p);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(p).sort()) walk(join(p, name));
  } else if (p.endsWith('.test.js')) {
    files.push(p);
  }
}
roots.forEach(walk);
if (files.length === 0) {
  console.error('no test files found under', roots.join(', '));
  process.exit(1);
}
// --test-force-exit: a file ends when its tests do. matrix-js-sdk leaves request-timeout timers (up to
// ~110 s) running after stopClient(), which would otherwise keep the sdk spec files alive that long.
const r = spawnSync(process.execPath, ['--test', '--test-force-exit', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
