#!/usr/bin/env -S node --max-semi-space-size=1
// The `comet` command; the implementation is compiled TypeScript (run `npm run build` first).
// --max-semi-space-size=1 (MiB): V8's young generation otherwise grows to 2×8 MiB while modules
// load and keeps it, which alone is about 12 MB of the idle server's resident memory; the message
// throughput benches showed no measurable cost (bench/idle-rss.ts, bench/send.ts). Starting it as
// `node bin/comet.js` skips the shebang: pass the flag yourself (the test harness does).
import('../dist/src/cli/main.js');
