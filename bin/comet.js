#!/usr/bin/env -S node --max-semi-space-size=16
// The `comet` command; the implementation is compiled TypeScript (run `npm run build` first).
// --max-semi-space-size=16 (MiB, V8's own 64-bit default, set explicitly so the harness and the
// benches pass the same value): with 1 MiB the young generation is too small for a fan-out burst,
// every woken sync's short-lived objects get promoted and collected by full GCs — bench/fanout.ts
// (1,000 members, 10 msg/s) measured 217 µs of server CPU per delivery at 1 MiB, 144 at 4, 111 at 8,
// 94 at 16. The cost is idle memory: bench/idle-rss.ts median 82 MB at 1 MiB, 95 MB at 16.
// Starting it as `node bin/comet.js` skips the shebang: pass the flag yourself (the test harness does).
import('../dist/src/cli/main.js');
