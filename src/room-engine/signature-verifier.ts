/**
 * Checking many events or signatures at once — the state and auth chain of a remote join is one
 * event per member, 10,000 for a room with 10,000 members. Their own checks (format, ID,
 * signatures, content hash: selfCheckEvent) were most of the CPU cost of a join, so large batches
 * are spread over worker threads (one per core) while the event loop stays free; small batches
 * are not worth the hand-off and are checked inline. Same functions either way.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type SelfCheck, selfCheckEvent } from '../core/event-self-check.js';
import { type VerifyKey, verifyBytes } from '../core/signing.js';
import type { RoomVersion } from '../rooms/versions.js';

export interface SignatureJob {
  message: Uint8Array;
  signature: Uint8Array;
  publicKey: Uint8Array;
}

/** Verify keys by `${server}\u0000${keyId}`. */
export type KeyTable = ReadonlyMap<string, VerifyKey>;

export interface SignatureVerifier {
  /** One result per job, in order: whether the signature is valid. Never rejects (bad input is just invalid). */
  verifyAll(jobs: readonly SignatureJob[]): Promise<boolean[]>;
  /** selfCheckEvent for each raw PDU, in order, with keys from `keys`. Never rejects. */
  checkEvents(version: RoomVersion, raws: readonly unknown[], keys: KeyTable): Promise<SelfCheck[]>;
}

/** Checks everything on the calling thread. */
export const inlineVerifier: SignatureVerifier = {
  async verifyAll(jobs) {
    return jobs.map((j) => verifyBytes(j.message, j.signature, j.publicKey));
  },
  async checkEvents(version, raws, keys) {
    return raws.map((raw) => selfCheckEvent(raw, version, (s, k) => keys.get(`${s}\u0000${k}`)));
  },
};

/** Below this much work per worker, posting to a thread costs more than it saves. */
const MIN_JOBS_PER_WORKER = 256;
const MIN_EVENTS_PER_WORKER = 128;

interface Pending {
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
}

export class SignatureVerifierPool implements SignatureVerifier {
  private workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();
  private nextId = 0;
  private nextWorker = 0;

  constructor(private readonly size = Math.max(1, availableParallelism())) {}

  async verifyAll(jobs: readonly SignatureJob[]): Promise<boolean[]> {
    const parts = Math.min(this.size, Math.floor(jobs.length / MIN_JOBS_PER_WORKER));
    if (parts < 1) return inlineVerifier.verifyAll(jobs);
    const per = Math.ceil(jobs.length / parts);
    const chunks: Array<Promise<Uint8Array>> = [];
    for (let p = 0; p < parts; p++) chunks.push(this.verifyOn(this.pick(), jobs.slice(p * per, (p + 1) * per)));
    try {
      const out: boolean[] = [];
      for (const r of await Promise.all(chunks)) for (const v of r) out.push(v === 1);
      return out;
    } catch {
      // A worker died mid-batch: the answer is still owed, so check on this thread.
      return inlineVerifier.verifyAll(jobs);
    }
  }

  async checkEvents(version: RoomVersion, raws: readonly unknown[], keys: KeyTable): Promise<SelfCheck[]> {
    const parts = Math.min(this.size, Math.floor(raws.length / MIN_EVENTS_PER_WORKER));
    if (parts < 1) return inlineVerifier.checkEvents(version, raws, keys);
    const per = Math.ceil(raws.length / parts);
    const chunks: Array<Promise<SelfCheck[]>> = [];
    try {
      for (let p = 0; p < parts; p++) {
        const message = { kind: 'events', versionId: version.id, raws: raws.slice(p * per, (p + 1) * per), keys: [...keys] };
        chunks.push(this.post<SelfCheck[]>(this.pick(), message));
      }
      return (await Promise.all(chunks)).flat();
    } catch {
      // Not cloneable (not plain JSON) or a worker died: check on this thread.
      for (const c of chunks) c.catch(() => undefined);
      return inlineVerifier.checkEvents(version, raws, keys);
    }
  }

  /** Stops the threads (idle ones do not keep a process alive anyway). */
  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }

  private verifyOn(worker: Worker, jobs: readonly SignatureJob[]): Promise<Uint8Array> {
    // Wrong-length signatures or keys cannot be packed; they are invalid anyway.
    const packable = jobs.map((j) => j.signature.length === 64 && j.publicKey.length === 32);
    let size = 0;
    for (const [i, j] of jobs.entries()) if (packable[i]) size += 4 + j.message.length + 96;
    const packed = new ArrayBuffer(size);
    const bytes = new Uint8Array(packed);
    const view = new DataView(packed);
    let at = 0;
    for (const [i, j] of jobs.entries()) {
      if (!packable[i]) continue;
      view.setUint32(at, j.message.length);
      bytes.set(j.message, at + 4);
      at += 4 + j.message.length;
      bytes.set(j.signature, at);
      bytes.set(j.publicKey, at + 64);
      at += 96;
    }
    const count = packable.filter(Boolean).length;
    return this.post<Uint8Array>(worker, { kind: 'verify', packed, count }, [packed]).then((results) => {
      const all = new Uint8Array(jobs.length);
      let k = 0;
      for (let i = 0; i < jobs.length; i++) all[i] = packable[i] ? results[k++] : 0;
      return all;
    });
  }

  private post<T>(worker: Worker, message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    const id = this.nextId++;
    // Sending first: a message that cannot be cloned throws here, before any bookkeeping.
    worker.postMessage({ ...message, id }, transfer);
    // Referenced only while it has work: an idle pool must not keep the process alive, a busy one must.
    this.busy.set(worker, (this.busy.get(worker) ?? 0) + 1);
    worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
    }).finally(() => {
      const n = (this.busy.get(worker) ?? 1) - 1;
      this.busy.set(worker, n);
      if (n === 0) worker.unref();
    });
  }

  private pick(): Worker {
    const workers = this.ensureWorkers();
    return workers[this.nextWorker++ % workers.length];
  }

  private ensureWorkers(): Worker[] {
    while (this.workers.length < this.size) {
      const w = new Worker(new URL('./signature-worker.js', import.meta.url));
      w.on('message', ({ id, results }: { id: number; results: unknown }) => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.resolve(results);
      });
      w.on('error', (err) => this.fail(w, err));
      w.on('exit', (code) => this.fail(w, new Error(`signature worker exited with code ${code}`)));
      // After the listeners: adding a 'message' listener refs the worker's port again.
      w.unref();
      this.workers.push(w);
    }
    return this.workers;
  }

  /** A worker died: every batch in flight is failed (callers fall back to checking inline) and the worker replaced on next use. */
  private fail(worker: Worker, err: unknown): void {
    if (!this.workers.includes(worker)) return;
    this.workers = this.workers.filter((w) => w !== worker);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

let shared: SignatureVerifierPool | undefined;

/** The process-wide pool (threads start on first large batch). */
export function sharedSignatureVerifier(): SignatureVerifier {
  shared ??= new SignatureVerifierPool();
  return shared;
}
