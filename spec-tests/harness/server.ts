/**
 * Starts a real Comet server as a child process (`node bin/comet.js start`) on a free port with a
 * temporary data directory. The server listens on port 0 and logs its bound port in a JSON line
 * ({"event":"listening","port":N}); the harness waits for that line (with a deadline), so there is no
 * port race and no fixed sleep.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/** Repository root (this file runs from dist/spec-tests/harness/). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const COMET = join(ROOT, 'bin', 'comet.js');
/** The node flags on bin/comet.js's `#!/usr/bin/env -S node …` line: servers start as the installed command would. */
const COMET_NODE_FLAGS = (/^#!.*\bnode\b(.*)$/m.exec(readFileSync(COMET, 'utf8').split('\n')[0])?.[1] ?? '').split(' ').filter((a) => a !== '');
const START_DEADLINE_MS = 15_000;

type ConfigTree = { [key: string]: unknown };

export interface StartOptions {
  /** Deep-merged over the test defaults (registration open, cheap password hashing, lax rate limits). */
  config?: ConfigTree;
  /** Reuse a data directory (e.g. to restart on the same database). */
  dir?: string;
  /** Extra node flags for the server process (e.g. `--cpu-prof` in benches). */
  nodeArgs?: string[];
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TestServer {
  baseUrl: string;
  port: number;
  /** The server process (e.g. to sample its memory from /proc). */
  pid: number;
  dir: string;
  configPath: string;
  serverName: string;
  /** Every stdout line so far (JSON log lines and the plain start-up messages). */
  readonly output: string[];
  /** Everything the process wrote to stderr so far (crash reports). */
  stderr(): string;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Sends `signal` (SIGTERM by default) and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** Resolves when the process exits (for whatever reason). */
  readonly exited: Promise<ExitStatus>;
  /** Removes the data directory (after stop). */
  cleanup(): void;
}

export function testConfig(overrides: ConfigTree = {}): ConfigTree {
  const base: ConfigTree = {
    server_name: 'localhost',
    public_baseurl: 'http://localhost:8008/',
    listeners: { client: { host: '127.0.0.1', port: 0 } },
    database: { engine: 'sqlite', path: './data/comet.db' },
    signing_key_path: './data/signing.key',
    registration: { enabled: true },
    // Cheap hashing: the tests check behaviour, not the work factor.
    auth: { scrypt_log_n: 10 },
    rate_limits: {
      login: { per_second: 1000, burst: 1000 },
      register: { per_second: 1000, burst: 1000 },
      send: { per_second: 1000, burst: 1000 },
      media: { per_second: 1000, burst: 1000 },
    },
    log: { level: 'info' },
  };
  return merge(base, overrides);
}

function merge(a: ConfigTree, b: ConfigTree): ConfigTree {
  const out: ConfigTree = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    const bothObjects = [cur, v].every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
    out[k] = bothObjects ? merge(cur as ConfigTree, v as ConfigTree) : v;
  }
  return out;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'comet-spec-'));
  const configPath = join(dir, 'comet.yaml');
  const config = testConfig(opts.config);
  writeFileSync(configPath, stringify(config));
  return launch(dir, configPath, String(config.server_name), opts.nodeArgs);
}

/**
 * Waits (up to 5 s) until the server has logged a line matching `match` and returns every such
 * line. The server writes its log lines at the end of the event-loop turn, so a line may arrive
 * just after the response of the request that caused it.
 */
export async function waitForLogs(server: TestServer, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lines = server.logs().filter(match);
    if (lines.length > 0 || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Starts a server on an existing directory without touching its comet.yaml. */
export function launch(dir: string, configPath: string, serverName = 'localhost', nodeArgs: string[] = []): Promise<TestServer> {
  const proc = spawn(process.execPath, [...COMET_NODE_FLAGS, ...nodeArgs, COMET, 'start', '--config', configPath], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  const output: string[] = [];
  let stderr = '';
  const exited = new Promise<ExitStatus>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    });
  });

  return new Promise<TestServer>((resolve, reject) => {
    let partial = '';
    let ready = false;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server did not report listening within ${START_DEADLINE_MS} ms\n${stderr}`));
    }, START_DEADLINE_MS);
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        output.push(line);
        if (ready || !line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { event?: string; listener?: string; port?: number };
        if (entry.event === 'listening' && entry.listener === 'client') {
          ready = true;
          clearTimeout(timer);
          resolve(makeHandle(entry.port!));
        }
      }
    });
    exited.then((status) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`server exited before listening (${JSON.stringify(status)}):\n${stderr}`));
    });
  });

  function makeHandle(port: number): TestServer {
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      port,
      pid: proc.pid!,
      dir,
      configPath,
      serverName,
      output,
      exited,
      stderr: () => stderr,
      logs: () => output.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
      stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        return exited;
      },
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
}

/**
 * Starts a stopped server again on the same data directory and, with `samePort`, the same port (so
 * clients that hold the old base URL reconnect to it). Rewrites only the listener port in comet.yaml.
 */
export function relaunch(server: TestServer, opts: { samePort?: boolean } = {}): Promise<TestServer> {
  if (opts.samePort) {
    const config = parse(readFileSync(server.configPath, 'utf8')) as ConfigTree;
    writeFileSync(server.configPath, stringify(merge(config, { listeners: { client: { port: server.port } } })));
  }
  return launch(server.dir, server.configPath, server.serverName);
}
