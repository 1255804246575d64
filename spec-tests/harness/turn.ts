/**
 * A real coturn `turnserver` on loopback for call tests: shared-secret auth (the TURN REST API scheme
 * Comet issues credentials for), no TLS, relay addresses on 127.0.0.1, loopback peers allowed (every
 * peer in these tests is a loopback address). Readiness is a STUN Binding request answered, not a sleep.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TurnServer {
  port: number;
  uri: string;
  secret: string;
  /** Everything turnserver printed so far. */
  output(): string;
  stop(): Promise<void>;
}

const START_DEADLINE_MS = 10_000;

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port free for UDP and TCP alike: coturn listens on both, and a busy TCP side stops it answering. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await freeUdpPort();
    if (await tcpPortFree(port)) return port;
  }
}

/** One STUN Binding request; resolves true when a Binding success response comes back in time. */
function stunBinding(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const txn = randomBytes(12);
    const req = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), txn]);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      s.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('message', (msg) => finish(msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(txn)));
    s.on('error', () => finish(false));
    s.send(req, port, '127.0.0.1');
  });
}

export async function startTurn(secret = randomBytes(16).toString('hex')): Promise<TurnServer> {
  return launchTurn(secret, ({ port, minPort, maxPort, dir }) => [
    '-n', // no config file: everything is on this command line
    '--listening-ip=127.0.0.1',
    '--relay-ip=127.0.0.1',
    `--listening-port=${port}`,
    `--min-port=${minPort}`,
    `--max-port=${maxPort}`,
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--realm=comet.test',
    '--allow-loopback-peers',
    '--no-tls',
    '--no-dtls',
    '--no-tcp-relay',
    '--no-cli',
    '--no-software-attribute',
    '--log-file=stdout',
    '--simple-log',
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    `--userdb=${join(dir, 'turndb')}`,
  ]);
}

export interface TurnPlace {
  /** The UDP listening port (free). */
  port: number;
  /** A relay port range of this server's own. */
  minPort: number;
  maxPort: number;
  /** A temporary directory for its files. */
  dir: string;
}

/** coturn run from a configuration file (e.g. the one docs/calls.md recommends) rendered for this place. */
export function startTurnFromConfig(secret: string, render: (place: TurnPlace) => string): Promise<TurnServer> {
  return launchTurn(secret, (place) => {
    const path = join(place.dir, 'turnserver.conf');
    writeFileSync(path, render(place));
    return ['-c', path];
  });
}

async function launchTurn(secret: string, argsFor: (place: TurnPlace) => string[]): Promise<TurnServer> {
  // A port found free can be taken by another process before coturn binds it (parallel test
  // files, a client's ephemeral port): start again on another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchTurnOnce(secret, argsFor);
    } catch (err) {
      if (attempt >= 3 || !String((err as Error).message).includes('Address already in use')) throw err;
    }
  }
}

async function launchTurnOnce(secret: string, argsFor: (place: TurnPlace) => string[]): Promise<TurnServer> {
  const dir = mkdtempSync(join(tmpdir(), 'comet-turn-'));
  const port = await freePort();
  // Relay ports from a range of our own so parallel test files rarely collide (coturn skips busy ports).
  const minPort = 40_000 + Math.floor(Math.random() * 200) * 100;
  const args = argsFor({ port, minPort, maxPort: minPort + 99, dir });
  const proc: ChildProcess = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  proc.once('error', (err) => {
    spawnError = err;
  });
  process.once('exit', () => proc.kill('SIGKILL'));

  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    if (spawnError) throw new Error(`cannot start turnserver (is coturn installed? .ci/run installs it): ${spawnError.message}`);
    if (proc.exitCode !== null) throw new Error(`turnserver exited (${proc.exitCode}):\n${out}`);
    if (await stunBinding(port, 200)) break;
    if (Date.now() > deadline || out.includes('Address already in use')) {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`turnserver did not answer STUN within ${START_DEADLINE_MS} ms:\n${out}`);
    }
  }
  return {
    port,
    uri: `turn:127.0.0.1:${port}?transport=udp`,
    secret,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
