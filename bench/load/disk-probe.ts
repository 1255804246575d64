/**
 * Times an fdatasync of a small file every 100 ms, next to the server's database, while a bench
 * runs. The server acknowledges (and announces) a message only once its WAL is synced, so a disk
 * that stalls shows up as delivery latency; this probe says whether, and when, the disk stalled.
 */
import { type FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';

export class DiskProbe {
  private readonly times: number[] = [];
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

  start(): void {
    this.done = this.run();
  }

  /** Stops and summarises: median and worst sync, and how many took over 100 ms. */
  async stop(): Promise<string> {
    this.stopped = true;
    await this.done;
    const sorted = [...this.times].sort((a, b) => a - b);
    if (sorted.length === 0) return 'disk probe: no samples';
    const slow = sorted.filter((t) => t > 100).length;
    const med = sorted[Math.floor(sorted.length / 2)];
    return `disk probe (fdatasync every 100 ms next to the database): median ${med.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(0)} ms, ${slow} of ${sorted.length} over 100 ms`;
  }

  private async run(): Promise<void> {
    const path = join(this.dir, 'disk-probe');
    let file: FileHandle | undefined;
    try {
      file = await open(path, 'w');
      const block = Buffer.alloc(4096, 1);
      while (!this.stopped) {
        const t = performance.now();
        await file.write(block, 0, block.length, 0);
        await file.datasync();
        this.times.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await file?.close();
      await rm(path, { force: true });
    }
  }
}
