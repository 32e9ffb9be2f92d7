/**
 * npx tsx examples/backend/loadtest.ts [--count N] [--concurrency C]
 *
 * Rough throughput of the backend: starts it in this process (PGlite, or PostgreSQL when
 * DATABASE_URL is set; fresh keys either way, so use a scratch database), then sends N POST
 * /waybills, N searches by mobile and N by last four digits + district, C at a time, and prints
 * requests per second. The client shares the process (and its CPU) with the server, so the
 * figures are a lower bound for one instance.
 */
import { parseArgs } from 'node:util';
import { generateLocalKeyMaterial, LocalKeyring } from 'waybill-seal';
import { createBackend } from './app.js';
import { openDatabase } from './db.js';
import { demoWaybills, listen } from './server.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '16' } }, strict: true });
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const say = (s: string) => process.stdout.write(`${s}\n`);

async function run(label: string, n: number, one: (i: number) => Promise<number>): Promise<void> {
  let next = 0;
  const statuses = new Map<number, number>();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const status = await one(next++);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  say(`${label.padEnd(28)} ${String(Math.round(n / s)).padStart(6)} req/s  (${n} in ${s.toFixed(1)} s; ${[...statuses].map(([k, v]) => `${v}×${k}`).join(', ')})`);
}

const db = await openDatabase({ url: process.env['DATABASE_URL'], max: concurrency });
const keyring = new LocalKeyring(generateLocalKeyMaterial());
const backend = await createBackend({ db, keyring });
const http = await listen(backend);
try {
  say(`backend on ${db.kind}, ${count} requests per kind, ${concurrency} at a time`);
  const waybills = demoWaybills(count, Date.now() % 100_000).map((w, i) => ({ ...w, waybillNo: `LT${Date.now().toString(36)}${i}` }));
  const post = (path: string, body: unknown) =>
    fetch(`${http.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const status = async (res: Promise<Response>) => {
    const r = await res;
    await r.arrayBuffer();
    return r.status;
  };
  await run('POST /waybills', count, (i) => status(post('/waybills', waybills[i])));
  await run('GET /waybills?mobile=', count, (i) => status(fetch(`${http.url}/waybills?mobile=${encodeURIComponent(waybills[i]!.receiver.mobile!)}`)));
  await run('GET /waybills?last4=&district=', count, (i) => {
    const w = waybills[i]!;
    const q = new URLSearchParams({ last4: w.receiver.mobile!.replace(/\D/g, '').slice(-4), district: w.receiver.address.district });
    return status(fetch(`${http.url}/waybills?${q}`));
  });
  await run('GET /waybills/:no/label', Math.min(count, 500), (i) => status(fetch(`${http.url}/waybills/${waybills[i]!.waybillNo}/label`)));
  await run('POST /waybills/:no/open', Math.min(count, 500), (i) =>
    status(
      fetch(`${http.url}/waybills/${waybills[i]!.waybillNo}/open`, {
        method: 'POST',
        headers: { 'x-principal': `courier-${i % 400}`, 'x-purpose': 'deliver', 'x-route': waybills[i]!.routing!.routeId! },
      }),
    ),
  );
} finally {
  await http.close();
  backend.close();
  await db.close();
}
