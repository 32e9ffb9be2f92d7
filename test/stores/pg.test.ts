/**
 * PgKeyStore on PostgreSQL: the shared KeyStore contract against PGlite (embedded PostgreSQL, one
 * instance for this file: it takes seconds to start) and against a real PostgreSQL server
 * (started by .ci/run, or by test/global-setup.ts), plus data-key creation raced by several
 * processes against the real server.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSealer, defineSchema, generateLocalKeyMaterial, LocalKeyring, retireDataKeys, s } from '../../src/index.js';
import { PgKeyStore } from '../../src/pg.js';
import { keyStoreContract, record } from '../keys/key-store-contract.js';
import { needPg } from '../keyrings/native.js';

const run = promisify(execFile);
const server = needPg();
let lite: PGlite;
let pool: pg.Pool | undefined;
let n = 0;
const table = () => `ks_${process.pid}_${++n}`;

beforeAll(async () => {
  lite = await PGlite.create();
  if (server.url) pool = new pg.Pool({ connectionString: server.url, max: 8 });
}, 120_000);
afterAll(async () => {
  await lite?.close();
  await pool?.end();
});

keyStoreContract('PgKeyStore (PGlite)', async () => PgKeyStore.create(lite, { table: table() }));

describe.skipIf(server.skip !== undefined)('PgKeyStore on a PostgreSQL server', () => {
  keyStoreContract('PgKeyStore (PostgreSQL server)', async () => PgKeyStore.create(pool!, { table: table() }));

  it('several processes sealing the same scopes at once end with one data key per scope, and every record opens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-pg-race-'));
    const t = table();
    await PgKeyStore.create(pool!, { table: t });
    const material = generateLocalKeyMaterial();
    const materialFile = join(dir, 'material.json');
    await writeFile(materialFile, JSON.stringify(material), { mode: 0o600 });
    const worker = new URL('./fixtures/seal-worker.ts', import.meta.url).pathname;
    const startAt = Date.now() + 4000;
    const N = 4;
    const count = 100;
    const outputs = await Promise.all(
      Array.from({ length: N }, (_, w) =>
        run(process.execPath, ['--import', 'tsx', worker, server.url!, t, materialFile, join(dir, `out-${w}.jsonl`), String(startAt), String(count), String(w)], {
          cwd: new URL('../..', import.meta.url).pathname,
        }),
      ),
    );
    const puts = outputs.flatMap((o) => JSON.parse(o.stdout) as { id: string; won: boolean }[]);
    // Every key was created by exactly one process; the others that raced for it got that one.
    for (const id of new Set(puts.map((p) => p.id))) expect(puts.filter((p) => p.id === id && p.won).length).toBe(1);
    console.info(`concurrent creation: ${puts.length} put-if-absent attempts for ${new Set(puts.map((p) => p.id)).size} keys, ${puts.filter((p) => !p.won).length} lost the race`);
    const store = new PgKeyStore(pool!, { table: t });
    const keys = await store.list();
    // Two scopes × two key classes (name: contact, note: note): exactly one key each, generation 1.
    expect(keys.map((k) => k.id).sort()).toEqual(['contact/2025-06/1', 'contact/2025-07/1', 'note/2025-06/1', 'note/2025-07/1']);

    const schema = defineSchema('race', 1, { id: s.string(), createdAt: s.date(), name: s.name(), note: s.text() }, { recordId: 'id' });
    const reader = createSealer({ keyring: new LocalKeyring(material), keyStore: store, guard: 'allow-all' });
    let opened = 0;
    for (let w = 0; w < N; w++) {
      const lines = (await readFile(join(dir, `out-${w}.jsonl`), 'utf8')).trim().split('\n');
      expect(lines.length).toBe(count);
      for (const [i, line] of lines.entries()) {
        const { record: r } = await reader.open(schema, JSON.parse(line), { principal: 'race', purpose: 'verify', reveal: 'plain' });
        expect(r.note).toBe(`worker ${w} record ${i}`);
        opened++;
      }
    }
    expect(opened).toBe(N * count);
    reader.close();
  }, 120_000);
});

describe('PgKeyStore specifics (PGlite)', () => {
  it('round-trips tombstones and retirement marks, and compares them in replace', async () => {
    const store = await PgKeyStore.create(lite, { table: table() });
    const r = record('contact/2025-01/1');
    await store.putIfAbsent(r);
    const [id] = await retireDataKeys(store);
    expect(id).toBe(r.id);
    const retired = (await store.get(r.id))!;
    expect(retired.retiredAt).toMatch(/^\d{4}-/);
    // A writer holding the pre-retirement version loses (it would drop the mark).
    expect(await store.replace(r, { ...r, wrapped: 'x' })).toBe(false);
    const shred = { ...retired, wrapped: '', shreddedAt: '2025-02-01T00:00:00.000Z' };
    expect(await store.replace(retired, shred)).toBe(true);
    expect(await store.get(r.id)).toEqual(shred);
  });

  it('creates its table idempotently, also when many instances start at once', async () => {
    const t = table();
    await Promise.all(Array.from({ length: 5 }, () => PgKeyStore.create(lite, { table: t })));
    const store = new PgKeyStore(lite, { table: t });
    await store.putIfAbsent(record('note/2025-01/1'));
    expect((await store.list()).length).toBe(1);
  });

  it('refuses table names that are not plain identifiers', () => {
    expect(() => new PgKeyStore(lite, { table: 'keys; drop table x' })).toThrow(/identifier/);
    expect(() => new PgKeyStore(lite, { table: 'public.waybill_keys' })).not.toThrow();
  });

  it('reports database failures as KeyError without leaking the query', async () => {
    const broken = new PgKeyStore({ query: async () => Promise.reject(Object.assign(new Error('connection refused to secret-host'), { code: '08006' })) });
    await expect(broken.get('contact/2025-01/1')).rejects.toMatchObject({ reason: 'store_unavailable', message: expect.not.stringContaining('secret-host') });
  });
});
