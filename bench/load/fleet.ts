/** Forks load-generator processes (bench/load/sync-clients.ts) and collects their reports. */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StartArgs } from './sync-clients.js';

const CLIENT = fileURLToPath(new URL('./sync-clients.js', import.meta.url));

export interface ClientReport {
  latencies: number[];
  /** The latencies seen by each transport's clients. */
  byMode: { ws: number[]; longpoll: number[] };
  errors: number;
  closedUnexpectedly: number;
  frames: number;
  typingEvents: number;
  typingSent: number;
  /** The load generators' event-loop delay (the worst process's p99, and the max). */
  loopDelayMs: { p99: number; max: number };
}

export class Fleet {
  private readonly procs: ChildProcess[] = [];

  /** Starts one process per args entry; resolves when all report their connections open. */
  async start(all: StartArgs[]): Promise<{ connected: number; errors: number; errorKinds: string[] }> {
    const ready = all.map((args) => {
      // CLIENT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/cprof") adds node flags to the load generators.
      const execArgv = process.env.CLIENT_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? [];
      const p = fork(CLIENT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
      this.procs.push(p);
      return new Promise<{ connected: number; errors: number; errorKinds: string[] }>((resolve, reject) => {
        p.once('message', (m: { type: string; connected: number; errors: number; errorKinds: string[] }) => resolve(m));
        p.once('exit', (code) => reject(new Error(`load generator exited (${code})`)));
        p.send({ cmd: 'start', ...args });
      });
    });
    const results = await Promise.all(ready);
    return results.reduce(
      (a, r) => ({ connected: a.connected + r.connected, errors: a.errors + r.errors, errorKinds: [...new Set([...a.errorKinds, ...r.errorKinds])] }),
      { connected: 0, errors: 0, errorKinds: [] as string[] },
    );
  }

  /** The load-generator processes' IDs (for their CPU use). */
  pids(): number[] {
    return this.procs.map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Starts the typing flips (StartArgs.typing) in every process. */
  go(): void {
    for (const p of this.procs) p.send({ cmd: 'go' });
  }

  async report(): Promise<ClientReport> {
    const reports = await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<ClientReport & { mode: 'ws' | 'longpoll' }>((resolve) => {
            p.once('message', (m: ClientReport & { mode: 'ws' | 'longpoll' }) => resolve(m));
            p.send({ cmd: 'report' });
          }),
      ),
    );
    return {
      latencies: reports.flatMap((r) => r.latencies),
      byMode: {
        ws: reports.filter((r) => r.mode === 'ws').flatMap((r) => r.latencies),
        longpoll: reports.filter((r) => r.mode === 'longpoll').flatMap((r) => r.latencies),
      },
      errors: reports.reduce((n, r) => n + r.errors, 0),
      closedUnexpectedly: reports.reduce((n, r) => n + r.closedUnexpectedly, 0),
      frames: reports.reduce((n, r) => n + r.frames, 0),
      typingEvents: reports.reduce((n, r) => n + r.typingEvents, 0),
      typingSent: reports.reduce((n, r) => n + r.typingSent, 0),
      loopDelayMs: {
        p99: Math.max(...reports.map((r) => r.loopDelayMs.p99)),
        max: Math.max(...reports.map((r) => r.loopDelayMs.max)),
      },
    };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.send({ cmd: 'exit' });
          }),
      ),
    );
  }
}

/** Splits `items` into `n` nearly equal parts. */
export function split<T>(items: T[], n: number): T[][] {
  const out: T[][] = Array.from({ length: n }, () => []);
  items.forEach((x, i) => {
    out[i % n].push(x);
  });
  return out;
}
