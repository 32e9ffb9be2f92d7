/**
 * `--jobs N`: N worker threads, each with its own task (its own sealer from the same key file).
 * Chunks go to the least-loaded worker; results come back tagged with their sequence number and
 * the pipeline writes them in input order. Side effects that must have one writer (the audit log,
 * the quota file) stay in the main thread: workers call them through messages.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AuditEvent, AuditSink } from '../access/audit.js';
import type { QuotaCounter, QuotaStore } from '../access/quota.js';
import { ConfigError } from '../errors.js';
import type { Format } from './args.js';
import type { Chunk, ChunkResult, TaskStats } from './chunks.js';
import { mergeStats } from './chunks.js';
import type { CsvInputPlan, CsvOutputPlan } from './codec.js';
import type { SchemaSource } from './schemas.js';
import type { TaskSpec } from './tasks.js';

/** Everything a worker needs to build its task (structured-cloneable: no keys, no functions). */
export interface WorkerInit {
  readonly spec: TaskSpec;
  readonly schema: SchemaSource;
  readonly outFormat: Format;
  readonly csvIn: CsvInputPlan | undefined;
  readonly csvOut: CsvOutputPlan | undefined;
}

export type ToWorker =
  | { readonly type: 'chunk'; readonly chunk: Chunk }
  | { readonly type: 'rpc-result'; readonly id: number; readonly value?: unknown; readonly error?: string }
  | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly message: string }
  | { readonly type: 'result'; readonly result: ChunkResult }
  | { readonly type: 'chunk-error'; readonly seq: number; readonly message: string }
  | { readonly type: 'rpc'; readonly id: number; readonly method: 'audit'; readonly args: [AuditEvent] }
  | { readonly type: 'rpc'; readonly id: number; readonly method: 'quota'; readonly args: [readonly QuotaCounter[], number, number | undefined] }
  | { readonly type: 'closed'; readonly stats: TaskStats };

export interface PoolServices {
  readonly audit?: AuditSink;
  readonly quotaStore?: QuotaStore;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (r: ChunkResult) => void; reject: (e: Error) => void }>;
  closed?: ((stats: TaskStats) => void) | undefined;
}

/**
 * A worker thread running the script next to this bundle (dist/cli/worker.js). From the TypeScript
 * sources (tests, `tsx src/cli/main.ts`) there is no worker.js: the worker registers tsx's loader
 * itself (loader hooks of the main thread do not reach worker threads on Node 20) and imports worker.ts.
 */
function startWorker(init: WorkerInit): Worker {
  const js = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData: init });
  const ts = new URL('./worker.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(boot, { eval: true, workerData: init });
}

export class WorkerPool {
  readonly #slots: Slot[];
  #failure: Error | undefined;

  private constructor(slots: Slot[]) {
    this.#slots = slots;
  }

  /** Starts `n` workers and waits until every one has built its task (a failure stops them all). */
  static async start(n: number, init: WorkerInit, services: PoolServices): Promise<WorkerPool> {
    const slots: Slot[] = [];
    const ready: Promise<void>[] = [];
    const pool = new WorkerPool(slots);
    for (let i = 0; i < n; i++) {
      const worker = startWorker(init);
      const slot: Slot = { worker, pending: new Map() };
      slots.push(slot);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (m: FromWorker) => {
            switch (m.type) {
              case 'ready':
                resolve();
                break;
              case 'init-error':
                reject(new ConfigError(m.message));
                break;
              case 'result': {
                const p = slot.pending.get(m.result.seq);
                slot.pending.delete(m.result.seq);
                p?.resolve(m.result);
                break;
              }
              case 'chunk-error':
                pool.#fail(new ConfigError(m.message));
                break;
              case 'rpc':
                void pool.#rpc(slot, m, services);
                break;
              case 'closed':
                slot.closed?.(m.stats);
                break;
            }
          });
          worker.on('error', (e) => {
            reject(e);
            pool.#fail(e instanceof Error ? e : new Error(String(e)));
          });
          worker.on('exit', (code) => {
            const e = new ConfigError(`worker thread exited (code ${code})`);
            reject(e);
            if (slot.pending.size > 0 || slot.closed) pool.#fail(e);
          });
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.terminate();
      throw e;
    }
    return pool;
  }

  process(chunk: Chunk): Promise<ChunkResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    return new Promise<ChunkResult>((resolve, reject) => {
      slot.pending.set(chunk.seq, { resolve, reject });
      // JSON Lines bytes move to the worker without a copy (the chunk owns its buffer).
      slot.worker.postMessage({ type: 'chunk', chunk } satisfies ToWorker, chunk.kind === 'jsonl' ? [chunk.bytes.buffer as ArrayBuffer] : []);
    });
  }

  /** Finishes every worker's task (closing its keys) and returns the summed statistics. */
  async close(): Promise<TaskStats> {
    const all = await Promise.all(
      this.#slots.map(
        (slot) =>
          new Promise<TaskStats>((resolve) => {
            slot.closed = resolve;
            slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
          }),
      ),
    );
    await this.terminate();
    return all.reduce((acc, s) => mergeStats(acc, s), {});
  }

  async terminate(): Promise<void> {
    for (const s of this.#slots) s.closed = undefined;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #fail(e: Error): void {
    if (this.#failure) return;
    this.#failure = e;
    for (const s of this.#slots) {
      for (const p of s.pending.values()) p.reject(e);
      s.pending.clear();
    }
  }

  async #rpc(slot: Slot, m: Extract<FromWorker, { type: 'rpc' }>, services: PoolServices): Promise<void> {
    let reply: ToWorker;
    try {
      let value: unknown;
      if (m.method === 'audit') {
        if (!services.audit) throw new ConfigError('no audit log in this run');
        await services.audit.write(m.args[0]);
      } else {
        if (!services.quotaStore) throw new ConfigError('no quota store in this run');
        value = await services.quotaStore.take(m.args[0], m.args[1], m.args[2]);
      }
      reply = { type: 'rpc-result', id: m.id, value };
    } catch (e) {
      reply = { type: 'rpc-result', id: m.id, error: e instanceof ConfigError ? e.message : 'internal error in the main thread' };
    }
    slot.worker.postMessage(reply);
  }
}
