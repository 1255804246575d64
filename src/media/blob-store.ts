/**
 * Content-addressed files under `media.path`: a blob lives at `ab/cd/<sha256>` (two levels of
 * fan-out keep directories small). Uploads stream into a temp file while being hashed, then are renamed
 * into place, so identical bytes are stored once and a half-written file never appears under a hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const WRITE_BATCH_BYTES = 1024 * 1024;
/** Read-stream buffer for downloads: large reads keep syscalls and event-loop turns per MB low. */
const READ_CHUNK_BYTES = 512 * 1024;

/** A blob received into a temp file, not yet committed under its hash. */
export interface ReceivedBlob {
  sha256: string;
  size: number;
  tempPath: string;
}

export interface OpenBlob {
  stream: Readable;
  size: number;
}

export class BlobStore {
  private readonly tmpDir: string;

  constructor(private readonly root: string) {
    this.tmpDir = join(root, 'tmp');
  }

  pathOf(sha256: string): string {
    // Hashes only ever come from our own hashing, but the check keeps a bad row from naming any other file.
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /** Streams `chunks` into a temp file, hashing as it goes; the temp file is removed on any failure. */
  async receive(chunks: AsyncIterable<Buffer>): Promise<ReceivedBlob> {
    await mkdir(this.tmpDir, { recursive: true });
    const tempPath = join(this.tmpDir, `${randomBytes(12).toString('hex')}.part`);
    const hash = createHash('sha256');
    let size = 0;
    let fh: FileHandle | undefined;
    try {
      fh = await open(tempPath, 'wx');
      // Socket chunks are small (~64 KB); batching them into one writev per ~1 MB saves most of the
      // thread-pool round trips.
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BATCH_BYTES) {
          await fh.writev(pending);
          pending = [];
          pendingBytes = 0;
        }
      }
      if (pending.length > 0) await fh.writev(pending);
      // The metadata row is committed after this, so the bytes must be durable first.
      await fh.datasync();
      await fh.close();
      fh = undefined;
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await rm(tempPath, { force: true });
      throw err;
    }
    return { sha256: hash.digest('hex'), size, tempPath };
  }

  async receiveBuffer(data: Buffer): Promise<ReceivedBlob> {
    return this.receive((async function* () {
      yield data;
    })());
  }

  /**
   * Moves a received blob under its hash. If the same bytes are already stored the temp file is
   * dropped and the existing file kept (it may be being read).
   */
  async commit(blob: ReceivedBlob): Promise<void> {
    const dest = this.pathOf(blob.sha256);
    if (await exists(dest)) {
      await rm(blob.tempPath, { force: true });
      return;
    }
    await mkdir(join(dest, '..'), { recursive: true });
    await rename(blob.tempPath, dest);
  }

  async discard(blob: ReceivedBlob): Promise<void> {
    await rm(blob.tempPath, { force: true });
  }

  /** Opens the blob for streaming; undefined if the file is missing. */
  async open(sha256: string): Promise<OpenBlob | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(this.pathOf(sha256), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const { size } = await fh.stat();
    // The stream owns the handle and closes it when done or destroyed (e.g. the client disconnects).
    return { stream: fh.createReadStream({ autoClose: true, highWaterMark: READ_CHUNK_BYTES }), size };
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
