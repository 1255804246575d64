/**
 * Keeps the server up, and says so, when connections outgrow the process's open-files limit.
 *
 * Every client socket (an idle WebSocket, a waiting long poll) is a file descriptor, and the
 * process also needs some for its database, media files and outgoing federation connections. At
 * the limit, accept() fails with EMFILE, which Node reports as an 'error' on the listening server:
 * unhandled, that would crash the process. So each listener refuses connections beyond the limit
 * less a reserve (`maxConnections`: Node closes them at once), and both a refusal and an accept
 * error are logged (at most once per period, with a count) instead of passing silently.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Logger } from '../logger.js';

/** Descriptors kept free for everything that is not a client connection. */
export const RESERVED_FDS = 256;
const REPORT_EVERY_MS = 10_000;

export interface FileLimit {
  soft: number;
  hard: number;
}

/** The process's open-files limit (RLIMIT_NOFILE), from /proc; undefined where that is not readable or unlimited. */
export function openFileLimit(procLimits = '/proc/self/limits'): FileLimit | undefined {
  let text: string;
  try {
    text = readFileSync(procLimits, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\d+)\s+(\d+)/m.exec(text);
  return m ? { soft: Number(m[1]), hard: Number(m[2]) } : undefined;
}

/** How many client connections a listener accepts under a limit (undefined: no bound). */
export function connectionBudget(limit: FileLimit | undefined): number | undefined {
  return limit === undefined ? undefined : Math.max(1, limit.soft - RESERVED_FDS);
}

/** Installs the bound and the reporting on a listening server. */
export function guardConnections(server: Server, logger: Logger, listener: string, max: number | undefined): void {
  if (max !== undefined) server.maxConnections = max;
  let dropped = 0;
  let acceptErrors = 0;
  let lastReport = 0;
  const report = (now: number) => {
    if (now - lastReport < REPORT_EVERY_MS) return;
    lastReport = now;
    logger.warn(
      { event: 'connections_refused', listener, dropped, accept_errors: acceptErrors, max_connections: max ?? null },
      'refusing connections: the open-files limit is reached; raise it (systemd LimitNOFILE, ulimit -n)',
    );
    dropped = 0;
    acceptErrors = 0;
  };
  server.on('drop', () => {
    dropped++;
    report(Date.now());
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') {
      acceptErrors++;
      report(Date.now());
      return;
    }
    logger.error({ err, listener }, 'listener error');
  });
}
