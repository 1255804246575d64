/**
 * Server CPU per request for a few cheap routes, to see what the HTTP pipeline itself costs (koa,
 * routing, auth, query validation, the access log, the response write) apart from any handler work:
 *   GET /versions (no auth), GET /account/whoami (auth), and GET /sync?since=…&timeout=0 with a filter
 *   (auth + query validation + an empty incremental sync).
 * CONCURRENCY keep-alive clients in this process issue REQUESTS requests per route, ROUNDS times;
 * the server's CPU time (from /proc) over each round divided by its requests gives µs per request.
 * Prints the median over the rounds, per route. Compare medians across builds (the machine is shared).
 * Run: node dist/bench/request-cost.js   (REQUESTS=4000 CONCURRENCY=50 ROUNDS=5)
 */
import { startServer, type TestServer } from '../spec-tests/harness/server.js';
import { cpuMs, fmt, LoadClient, median, register } from './load-client.js';

const REQUESTS = Number(process.env.REQUESTS ?? 4000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const V3 = '/_matrix/client/v3';

let server: TestServer | undefined;

async function main(): Promise<void> {
  server = await startServer({
    config: { shutdown_grace_ms: 500 },
    nodeArgs: process.env.SERVER_NODE_ARGS?.split(' ').filter((a) => a !== ''),
  });
  const client = new LoadClient(server.baseUrl, CONCURRENCY + 4);
  const users = await Promise.all([...Array(CONCURRENCY).keys()].map((i) => register(client, `rc${i}`)));
  const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 5 }, state: { lazy_load_members: true } } }));
  const since = await Promise.all(users.map(async (u) => (await client.ok('GET', `${V3}/sync?filter=${filter}&timeout=0`, u.token)).body.next_batch as string));

  const routes: { name: string; path: (i: number) => string; auth: boolean }[] = [
    { name: 'GET /versions', path: () => '/_matrix/client/versions', auth: false },
    { name: 'GET /account/whoami', path: () => `${V3}/account/whoami`, auth: true },
    { name: 'GET /sync (empty, timeout=0)', path: (i) => `${V3}/sync?filter=${filter}&timeout=0&since=${encodeURIComponent(since[i])}`, auth: true },
  ];
  console.log(`server at ${server.baseUrl}; ${REQUESTS} requests × ${ROUNDS} rounds per route, ${CONCURRENCY} clients`);
  for (const route of routes) {
    const perRequest: number[] = [];
    // One warm-up round (JIT) that is not counted.
    for (let round = 0; round <= ROUNDS; round++) {
      const before = cpuMs(server.pid);
      let next = 0;
      await Promise.all(
        users.map(async (u, i) => {
          while (next < REQUESTS) {
            next++;
            await client.ok('GET', route.path(i), route.auth ? u.token : undefined);
          }
        }),
      );
      if (round > 0) perRequest.push(((cpuMs(server.pid) - before) * 1000) / REQUESTS);
    }
    console.log(`${route.name.padEnd(32)} ${fmt(median(perRequest))} µs server CPU per request (median; rounds ${perRequest.map((x) => fmt(x)).join(', ')})`);
  }
  client.close();
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => server?.stop());
