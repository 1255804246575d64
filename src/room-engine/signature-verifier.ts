/**
 * Verifying many Ed25519 signatures at once — the state and auth chain of a remote join carry one
 * per event, and a room with 10,000 members sends 10,000 of them. Checking them is the largest
 * CPU cost of a join, so large batches are spread over worker threads (one per core) while the
 * event loop stays free; small batches are not worth the hand-off and are checked inline.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { verifyBytes } from '../core/signing.js';

export interface SignatureJob {
  message: Uint8Array;
  signature: Uint8Array;
  publicKey: Uint8Array;
}

export interface SignatureVerifier {
  /** One result per job, in order: whether the signature is valid. Never rejects (bad input is just invalid). */
  verifyAll(jobs: readonly SignatureJob[]): Promise<boolean[]>;
}

/** Checks every job on the calling thread. */
export const inlineVerifier: SignatureVerifier = {
  async verifyAll(jobs) {
    return jobs.map((j) => verifyBytes(j.message, j.signature, j.publicKey));
  },
};

/** Below this many jobs per worker, posting to a thread costs more than it saves. */
const MIN_JOBS_PER_WORKER = 256;

interface Pending {
  resolve: (r: Uint8Array) => void;
  reject: (e: unknown) => void;
}

export class SignatureVerifierPool implements SignatureVerifier {
  private workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();
  private nextId = 0;

  constructor(private readonly size = Math.max(1, availableParallelism())) {}

  async verifyAll(jobs: readonly SignatureJob[]): Promise<boolean[]> {
    const parts = Math.min(this.size, Math.floor(jobs.length / MIN_JOBS_PER_WORKER));
    if (parts < 1) return inlineVerifier.verifyAll(jobs);
    const workers = this.ensureWorkers();
    const per = Math.ceil(jobs.length / parts);
    const chunks: Array<Promise<Uint8Array>> = [];
    for (let p = 0; p < parts; p++) chunks.push(this.run(workers[p], jobs.slice(p * per, (p + 1) * per)));
    let results: Uint8Array[];
    try {
      results = await Promise.all(chunks);
    } catch {
      // A worker died mid-batch: the answer is still owed, so check on this thread.
      return inlineVerifier.verifyAll(jobs);
    }
    const out: boolean[] = [];
    for (const r of results) for (const v of r) out.push(v === 1);
    return out;
  }

  /** Stops the threads (they are unref'd, so a process may also just exit). */
  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }

  private run(worker: Worker, jobs: readonly SignatureJob[]): Promise<Uint8Array> {
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
    const id = this.nextId++;
    const count = packable.filter(Boolean).length;
    // Referenced only while it has work: an idle pool must not keep the process alive, a busy one must.
    this.busy.set(worker, (this.busy.get(worker) ?? 0) + 1);
    worker.ref();
    const done = () => {
      const n = (this.busy.get(worker) ?? 1) - 1;
      this.busy.set(worker, n);
      if (n === 0) worker.unref();
    };
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, packed, count }, [packed]);
    }).finally(done).then((results) => {
      const all = new Uint8Array(jobs.length);
      let k = 0;
      for (let i = 0; i < jobs.length; i++) all[i] = packable[i] ? results[k++] : 0;
      return all;
    });
  }

  private ensureWorkers(): Worker[] {
    while (this.workers.length < this.size) {
      const w = new Worker(new URL('./signature-worker.js', import.meta.url));
      w.on('message', ({ id, results }: { id: number; results: Uint8Array }) => {
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

  /** A worker died: every batch in flight is failed (the caller's batch fails as a whole) and the worker replaced on next use. */
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
