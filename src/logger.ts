import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * JSON lines on stdout (fd 1). Lines logged during one turn of the event loop are written together
 * at its end (one synchronous write instead of one per line: with an access-log line per request a
 * write each cost about a millisecond of server time under load), and whatever is still buffered is
 * written synchronously when the process exits, so a clean exit or a crash that reaches `exit`
 * loses nothing; only a hard kill can drop the current turn's lines.
 */
export function createLogger(level: string): Logger {
  // minLength: flush early once this much piles up within a single turn (must stay below sonic-boom's 16 KiB maxWrite).
  const out = pino.destination({ sync: true, minLength: 8 * 1024 });
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    out.flushSync();
  };
  process.on('exit', () => out.flushSync());
  const stream = {
    write(line: string): void {
      out.write(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
  return pino({ level, base: undefined, timestamp: isoTime }, stream);
}

let stampMs = Number.NaN;
let stamp = '';

/** pino's ISO timestamp, formatted once per millisecond (a busy server logs many lines in one). */
function isoTime(): string {
  const now = Date.now();
  if (now !== stampMs) {
    stampMs = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}
