import { writeSync } from 'node:fs';
import { pino } from 'pino';

export type Logger = pino.Logger;

/** A turn's lines are written early once this many characters pile up. */
const FLUSH_AT_CHARS = 32 * 1024;
/** How long to wait before retrying when the reader of a non-blocking stdout pipe is behind. */
const RETRY_AFTER_MS = 1;

/**
 * JSON lines on stdout (fd 1). Lines logged during one turn of the event loop are written together
 * at its end (one write instead of one per line: with an access-log line per request a write each
 * cost about a millisecond of server time under load), and whatever is still buffered is written
 * synchronously when the process exits, so a clean exit (SIGTERM included) or a crash that reaches
 * `exit` loses nothing; only a hard kill can drop the current turn's lines.
 */
export function createLogger(level: string, fd = 1): Logger {
  const out = new TurnBufferedLines(fd);
  process.on('exit', () => out.flush());
  const logger = pino({ level, base: undefined, timestamp: isoTime }, out);
  outputs.set(logger, out);
  return logger;
}

/** The destination of each logger createLogger made (the access log writes its lines there itself). */
const outputs = new WeakMap<Logger, TurnBufferedLines>();

/** The fields of the access log's line for one request. */
export interface AccessLine {
  reqId: string;
  method: string | undefined;
  path: string;
  status: number;
  ms: number;
  user: string | undefined;
}

/**
 * Writes the access log's `request` line. For a logger from createLogger the line is formatted
 * here, exactly as pino would format it: pino's generic serializer (every key walked, every value
 * stringified through its checks) took several µs a line, a measurable share of a long-poll cycle.
 */
export function accessLog(logger: Logger): (line: AccessLine) => void {
  const out = outputs.get(logger);
  if (!out) return (line) => logger.info(line, 'request');
  return (l) => {
    if (!logger.isLevelEnabled('info')) return;
    // The request id and method are plain tokens; the path and user ID are client-chosen text.
    const user = l.user === undefined ? '' : `,"user":${JSON.stringify(l.user)}`;
    out.write(
      `{"level":30${isoTime()},"reqId":"${l.reqId}","method":"${l.method}","path":${JSON.stringify(l.path)},"status":${l.status},"ms":${l.ms}${user},"msg":"request"}\n`,
    );
  };
}

/**
 * Our own buffer rather than sonic-boom's: its flushSync also fsyncs the descriptor (a disk flush
 * per turn when stdout is a file) and it measures every line's byte length on the way in.
 */
class TurnBufferedLines {
  private lines: string[] = [];
  private chars = 0;
  private scheduled = false;
  private readonly flushSoon = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(private readonly fd: number) {}

  write(line: string): void {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= FLUSH_AT_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  flush(): void {
    if (this.lines.length === 0) return;
    const text = this.lines.length === 1 ? this.lines[0] : this.lines.join('');
    this.lines = [];
    this.chars = 0;
    writeFully(this.fd, Buffer.from(text, 'utf8'));
  }
}

/** Writes every byte, across partial writes and EAGAIN (stdout may be a non-blocking pipe). */
function writeFully(fd: number, buf: Buffer): void {
  let offset = 0;
  while (offset < buf.length) {
    try {
      offset += writeSync(fd, buf, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(retryCell, 0, 0, RETRY_AFTER_MS);
    }
  }
}

const retryCell = new Int32Array(new SharedArrayBuffer(4));

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
