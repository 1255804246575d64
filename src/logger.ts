import { pino } from 'pino';

export type Logger = pino.Logger;

/** JSON lines on stdout (fd 1, written synchronously so nothing is lost when the process exits). */
export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ sync: true }));
}
