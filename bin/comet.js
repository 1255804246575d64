#!/usr/bin/env -S node --max-semi-space-size=32
// The `comet` command; the implementation is compiled TypeScript (run `npm run build` first).
// --max-semi-space-size=32 (MiB): with a small young generation a fan-out burst (every woken sync
// allocating its short-lived objects at once) promotes them and pays for full GCs. bench/fanout.ts
// (1,000 members, 10 msg/s) measured server CPU per delivery 217 µs at 1 MiB, 144 at 4, 111 at 8,
// 94–109 at 16, 88 at 32, 83 at 64 (WS only). The cost is memory: bench/idle-rss.ts median 82 MB
// at 1 MiB, 95–97 MB at 16 or 32 (the young generation grows while modules load); under that
// fan-out the RSS was 350 MB at 16, 380 at 32, 430 at 64.
// Starting it as `node bin/comet.js` skips the shebang: pass the flag yourself (the test harness does).
import('../dist/src/cli/main.js');
