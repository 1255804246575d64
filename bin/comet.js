#!/usr/bin/env node
// The `comet` command; the implementation is compiled TypeScript (run `npm run build` first).
import('../dist/src/cli/main.js');
