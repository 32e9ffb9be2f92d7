/**
 * A `--jobs` worker thread: builds its own task (its own sealer from the key file named in the
 * spec), then processes the chunks it is sent one at a time. Audit events and quota takes go to
 * the main thread, which holds the one audit log and quota file of the run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditSink } from '../access/audit.js';
import type { QuotaOutcome, QuotaStore } from '../access/quota.js';
import { ConfigError, WaybillSealError } from '../errors.js';
import { osCause } from '../node/file-writes.js';
import { processChunk, type ChunkContext } from './chunks.js';
import type { FromWorker, ToWorker, WorkerInit } from './pool.js';
import { schemaFromSource } from './schemas.js';
import { createTask } from './tasks.js';
import { installPhoneMetadata } from './phone.js';

installPhoneMetadata();

const port = parentPort;
if (!port) throw new Error('waybill-seal worker: not in a worker thread');
const init = workerData as WorkerInit;
const post = (m: FromWorker) => port.postMessage(m);

const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextId = 1;
function call(method: 'audit' | 'quota', args: unknown[]): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    calls.set(id, { resolve, reject });
    post({ type: 'rpc', id, method, args } as FromWorker);
  });
}
const audit: AuditSink = { write: async (event) => void (await call('audit', [event])) };
const quotaStore: QuotaStore = { take: (counters, now, cost) => call('quota', [counters, now, cost]) as Promise<QuotaOutcome> };

let queue: Promise<unknown> = Promise.resolve();
const ready: Promise<ChunkContext> = (async () => {
  const { schema } = schemaFromSource(init.schema);
  const task = await createTask(init.spec, schema, { audit, quotaStore });
  return { task, schema, outFormat: init.outFormat, csvIn: init.csvIn, csvOut: init.csvOut };
})();
ready.then(
  () => post({ type: 'ready' }),
  (e: unknown) => post({ type: 'init-error', message: e instanceof WaybillSealError ? e.message : 'could not start a worker' }),
);

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'chunk':
      // One chunk at a time, in arrival order: a worker's records are sealed sequentially.
      queue = queue
        .then(() => ready)
        .then((ctx) => processChunk(ctx, m.chunk))
        .then(
          (result) => port.postMessage({ type: 'result', result } satisfies FromWorker, [result.bytes.buffer as ArrayBuffer]),
          (e: unknown) => post({ type: 'chunk-error', seq: m.chunk.seq, message: e instanceof WaybillSealError ? e.message : (osCause(e) ?? 'internal error') }),
        );
      break;
    case 'rpc-result': {
      const c = calls.get(m.id);
      calls.delete(m.id);
      if (m.error !== undefined) c?.reject(new ConfigError(m.error));
      else c?.resolve(m.value);
      break;
    }
    case 'close':
      queue = queue
        .then(() => ready)
        .then((ctx) => ctx.task.finish())
        .then(
          (stats) => post({ type: 'closed', stats }),
          () => post({ type: 'closed', stats: {} }),
        );
      break;
  }
});
