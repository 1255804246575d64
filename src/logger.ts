import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * JSON lines on stdout (fd 1). Written asynchronously: a synchronous write per access-log line
 * blocks the event loop whenever the reader of stdout is slow (a woken long-poll storm logs
 * hundreds of lines at once); lines written in the same tick go out in one write. pino flushes
 * synchronously on process exit, so nothing is lost then.
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ sync: false }));
}
