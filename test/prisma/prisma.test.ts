/**
 * waybill-seal/prisma on a real Prisma 7 client (generated from test/prisma/schema.prisma, driver
 * adapter @prisma/adapter-pg) against the PostgreSQL server of the test run. Written as the insider
 * scenario: a pickup-station principal of one outlet, the search quota, the audit trail, and what
 * reaches the database, the query log and the application's hands.
 */
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  createAccessGuard,
  createSealer,
  generateLocalKeyMaterial,
  IntegrityError,
  LocalKeyring,
  MemoryAuditSink,
  MemoryKeyStore,
  waybill,
  waybillPolicy,
  type PlainRecord,
  type SearchEvent,
  type WaybillSchema,
} from '../../src/index.js';
import { planMigration, runMigrationWorker, sealRows } from '../../src/pg.js';
import { prismaSeal, UnsupportedQueryError, type PrismaSeal } from '../../src/prisma.js';
import { findPlaintext } from '../../src/testing.js';
import { sampleWaybill } from '../helpers.js';
import { needPg } from '../keyrings/native.js';

const server = needPg();
const ROOT = resolve(import.meta.dirname, '../..');
type Plain = PlainRecord<WaybillSchema>;

// The generated client's surface these tests use (it is generated at test time, so not type-checked here).
interface Delegate {
  create(a: object): Promise<any>;
  createMany(a: object): Promise<{ count: number }>;
  findMany(a?: object): Promise<any[]>;
  findFirst(a?: object): Promise<any>;
  findUnique(a: object): Promise<any>;
  update(a: object): Promise<any>;
  updateMany(a: object): Promise<any>;
  upsert(a: object): Promise<any>;
  deleteMany(a?: object): Promise<any>;
  count(a?: object): Promise<number>;
  aggregate(a: object): Promise<any>;
  groupBy(a: object): Promise<any>;
}
interface Client {
  waybill: Delegate;
  customer: Delegate;
  $extends(e: unknown): Client;
  $on(event: 'query', f: (e: { query: string; params: string }) => void): void;
  $disconnect(): Promise<void>;
}

const DB = `ws_prisma_${process.pid}`;
let admin: pg.Client;
let base: Client;
let prisma: Client;
let seal: PrismaSeal;
let audit: MemoryAuditSink;
let raw: pg.Client;
const queries: string[] = [];
const plains: Plain[] = [];
let now = Date.parse('2026-03-01T08:00:00Z');
const keyring = new LocalKeyring(generateLocalKeyMaterial());
const keyStore = new MemoryKeyStore();

function parcel(i: number, mobile: string, outlet: string): Plain {
  const w = sampleWaybill();
  w.waybillNo = `w${i}`; // the row id: `recordIdColumn` binds each sealed record to its row
  w.receiver.mobile = mobile;
  w.receiver.name = ['欧阳娜娜', '张三', '阿依古丽·买买提', '李小龙'][i % 4]!;
  const p = { ...w, routing: { destOutlet: outlet } } as Plain;
  plains.push(p);
  return p;
}

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/prisma/build/index.js'), 'generate', '--schema', 'test/prisma/schema.prisma'], {
    cwd: ROOT,
    // `prisma generate` needs no schema engine (the client is generated from the schema alone); without
    // this it would try to download one, and this machine has no network.
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    stdio: 'pipe',
  });
  if (!server.url) return;
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DB}`);
  const url = new URL(server.url);
  url.pathname = `/${DB}`;
  raw = new pg.Client({ connectionString: url.href });
  await raw.connect();
  await raw.query(`CREATE TABLE customer (id text PRIMARY KEY, name text NOT NULL)`);
  await raw.query(`CREATE TABLE outlet (id text PRIMARY KEY)`);
  await raw.query(`CREATE TABLE waybill (id text PRIMARY KEY, sealed jsonb NOT NULL, "receiverMobile" text, "receiverLast4" text,
    "customerId" text REFERENCES customer(id), "outletId" text REFERENCES outlet(id))`);
  await raw.query(`CREATE INDEX ON waybill ("receiverMobile")`);
  await raw.query(`CREATE INDEX ON waybill ("receiverLast4")`);

  const { PrismaClient } = (await import(pathToFileURL(join(ROOT, '.tmp/prisma-client/client.ts')).href)) as { PrismaClient: new (o: object) => Client };
  const { PrismaPg } = await import('@prisma/adapter-pg');
  base = new PrismaClient({ adapter: new PrismaPg({ connectionString: url.href }), log: [{ emit: 'event', level: 'query' }] });
  base.$on('query', (e) => queries.push(`${e.query} ${e.params}`));
  audit = new MemoryAuditSink();
  const guard = createAccessGuard({ policy: waybillPolicy, audit, now: () => now });
  const sealer = createSealer({ keyring, keyStore, guard });
  seal = prismaSeal({
    sealer,
    models: { Waybill: { schema: waybill, column: 'sealed', recordIdColumn: 'id', tokens: { receiverMobile: 'receiver.mobile', receiverLast4: 'receiver.mobile:last4' } } },
  });
  prisma = base.$extends(seal.extension);
}, 120_000);

afterAll(async () => {
  await base?.$disconnect();
  await raw?.end();
  await admin?.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin?.end();
});

const station = (outlet: string) => ({ principal: `station-${outlet}`, purpose: 'pickup', context: { outlet } });

describe.skipIf(server.skip !== undefined)('waybill-seal/prisma (Prisma 7, adapter-pg, PostgreSQL)', () => {
  it('create, createMany, upsert and a nested create through Customer.waybills seal before anything reaches the database', async () => {
    const made = await prisma.waybill.create({ data: { id: 'w0', sealed: parcel(0, '13900001111', 'OUT-A') } });
    expect(made.sealed.receiver.mobile).toBe('139****1111');
    expect(made).not.toHaveProperty('receiverMobile');
    await prisma.waybill.createMany({ data: [1, 2, 3].map((i) => ({ id: `w${i}`, sealed: parcel(i, ['13700001111', '13900002222', '13600002222'][i - 1]!, i % 2 === 0 ? 'OUT-A' : 'OUT-B') })) });
    await prisma.waybill.upsert({ where: { id: 'w4' }, create: { id: 'w4', sealed: parcel(4, '13512345678', 'OUT-A') }, update: {} });
    await prisma.customer.create({ data: { id: 'c1', name: 'ACME', waybills: { create: [{ id: 'w5', sealed: parcel(5, '13812345678', 'OUT-B') }] } } });

    const { rows } = await raw.query(`SELECT * FROM waybill ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5']);
    for (const r of rows) {
      expect(r.sealed.receiver.mobile.enc).toMatch(/^ws1\./);
      expect(r.receiverMobile).toMatch(/^\d{4}-\d{2}~\d+\./);
      expect(r.receiverLast4).toMatch(/^\d{4}-\d{2}~\d+\./);
    }
    // Nothing of the plain records in the table, nor in any query Prisma logged (parameters included).
    expect(findPlaintext(rows, plains, { schema: waybill })).toEqual([]);
    expect(findPlaintext(queries, plains, { schema: waybill })).toEqual([]);
  });

  it('every read is the masked view; token columns never come back; includes through the relation are masked too', async () => {
    const all = await prisma.waybill.findMany({ orderBy: { id: 'asc' } });
    expect(all.map((w) => w.sealed.receiver.mobile)).toEqual(['139****1111', '137****1111', '139****2222', '136****2222', '135****5678', '138****5678']);
    for (const w of all) expect(Object.keys(w)).not.toContain('receiverLast4');
    const customer = await prisma.customer.findUnique({ where: { id: 'c1' }, include: { waybills: true } });
    expect(customer.waybills[0].sealed.receiver.name).not.toBe(plains[5]!.receiver.name);
    expect(findPlaintext([all, customer], plains, { schema: waybill })).toEqual([]);
  });

  it('a station finds its own parcel by the last four digits; another outlet\'s parcel with the same digits is not returned', async () => {
    const mine = await seal.as(station('OUT-A'), () => prisma.waybill.findMany({ where: { receiverLast4: '1111' } }));
    expect(mine.map((w) => w.id)).toEqual(['w0']); // w1 has 1111 too, at OUT-B
    const theirs = await seal.as(station('OUT-B'), () => prisma.waybill.findMany({ where: { receiverLast4: '1111' } }));
    expect(theirs.map((w) => w.id)).toEqual(['w1']);
    expect(await seal.as(station('OUT-A'), () => prisma.waybill.count({ where: { receiverLast4: { equals: '2222' } } }))).toBe(1);
    const first = await seal.as(station('OUT-B'), () => prisma.waybill.findFirst({ where: { receiverLast4: '2222' }, select: { id: true } }));
    expect(first).toEqual({ id: 'w3' });
    // Audited without the value or a token.
    const searches = audit.events.filter((e) => e.type === 'search');
    expect(searches.length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(audit.events)).not.toContain('1111');
  });

  it('a token filter without a search request is refused (search is an access); the station cannot open the full mobile', async () => {
    await expect(prisma.waybill.findMany({ where: { receiverLast4: '1111' } })).rejects.toThrow(AccessDeniedError);
    await expect(seal.as(station('OUT-A'), () => prisma.waybill.findMany({ where: { receiverMobile: '13900001111' } }))).rejects.toThrow(AccessDeniedError);
  });

  it('queries that would need plaintext are refused: contains, ranges, ordering, filters on the sealed column, nested token filters, writes filtered by tokens, token columns written by hand', async () => {
    const as = <T>(f: () => Promise<T>) => seal.as(station('OUT-A'), f);
    await expect(as(() => prisma.waybill.findMany({ where: { receiverLast4: { contains: '11' } } }))).rejects.toThrow(UnsupportedQueryError);
    await expect(as(() => prisma.waybill.findMany({ where: { receiverLast4: { gt: '1' } } }))).rejects.toThrow(UnsupportedQueryError);
    await expect(prisma.waybill.findMany({ orderBy: { receiverMobile: 'asc' } })).rejects.toThrow(UnsupportedQueryError);
    await expect(prisma.waybill.findMany({ where: { sealed: { path: ['receiver', 'mobile'], equals: 'x' } } })).rejects.toThrow(UnsupportedQueryError);
    await expect(as(() => prisma.waybill.findMany({ where: { OR: [{ receiverLast4: '1111' }, { id: 'w3' }] } }))).rejects.toThrow(UnsupportedQueryError);
    await expect(as(() => prisma.waybill.deleteMany({ where: { receiverLast4: '1111' } }))).rejects.toThrow(UnsupportedQueryError);
    await expect(prisma.waybill.updateMany({ where: { id: 'w0' }, data: { sealed: plains[0] } })).rejects.toThrow(UnsupportedQueryError);
    await expect(prisma.waybill.create({ data: { id: 'w9', sealed: parcel(9, '13900009999', 'OUT-A'), receiverLast4: '1.abc' } })).rejects.toThrow(UnsupportedQueryError);
    expect(await prisma.waybill.count()).toBe(6);
  });

  it('update reseals the replacement record; the tokens follow it', async () => {
    const moved = { ...plains[4]!, receiver: { ...plains[4]!.receiver, mobile: '13500004444' } } as Plain;
    plains.push(moved);
    const out = await prisma.waybill.update({ where: { id: 'w4' }, data: { sealed: moved } });
    expect(out.sealed.receiver.mobile).toBe('135****4444');
    expect(await seal.as(station('OUT-A'), () => prisma.waybill.count({ where: { receiverLast4: '4444' } }))).toBe(1);
    expect(await seal.as(station('OUT-A'), () => prisma.waybill.count({ where: { receiverLast4: '5678' } }))).toBe(0);
  });

  it('plaintext only through seal.open: the guard decides, the audit records it', async () => {
    const opened = await seal.open(prisma, 'Waybill', { id: 'w0' }, { principal: 'agent-7', purpose: 'customer-service', context: { ticket: 'T-1' }, reveal: 'plain' });
    expect(opened.opened).toEqual(['receiver.mobile']);
    expect((opened.record as Plain).receiver.mobile).toBe('13900001111');
    expect(audit.events.some((e) => e.type === 'access' && e.principal === 'agent-7')).toBe(true);
    await expect(seal.open(prisma, 'Waybill', { id: 'w0' }, { principal: 'agent-7', purpose: 'customer-service' })).rejects.toThrow(AccessDeniedError);
  });

  it('attack (review F1): a nested write through a relation the extension was told nothing about (Outlet.waybills) is sealed, not stored in plain', async () => {
    const viaOutlet = parcel(40, '13966668888', 'OUT-A');
    const more = parcel(41, '13955554444', 'OUT-A');
    await prisma.customer.create({ data: { id: 'c2', name: 'Other' } });
    await (prisma as unknown as { outlet: Delegate }).outlet.create({
      data: { id: 'O1', waybills: { create: [{ id: 'w40', sealed: viaOutlet }], createMany: { data: [{ id: 'w41', sealed: more }] } } },
    });
    await (prisma as unknown as { outlet: Delegate }).outlet.update({ where: { id: 'O1' }, data: { waybills: { update: { where: { id: 'w41' }, data: { sealed: { ...more, receiver: { ...more.receiver, mobile: '13922223333' } } } } } } });
    plains.push({ ...more, receiver: { ...more.receiver, mobile: '13922223333' } } as Plain);
    const { rows } = await raw.query(`SELECT * FROM waybill WHERE id IN ('w40', 'w41') ORDER BY id`);
    expect(rows.map((r) => r.sealed.receiver.mobile.enc.slice(0, 4))).toEqual(['ws1.', 'ws1.']);
    expect(rows[1].receiverLast4).toBe(rows[1].sealed.receiver.mobile.tok['receiver.mobile:last4']); // the token followed the update
    expect(findPlaintext(rows, plains, { schema: waybill })).toEqual([]);
  });

  it('attack (review F2): no read path returns a sealed record unmasked or unchecked: the fluent API, includes two relations deep, an outlet include', async () => {
    const fluent = await (prisma.customer.findUnique({ where: { id: 'c1' } }) as unknown as { waybills(): Promise<any[]> }).waybills();
    expect(fluent[0].sealed.receiver.mobile).toBe('138****5678');
    const deep = await prisma.waybill.findUnique({ where: { id: 'w5' }, include: { customer: { include: { waybills: true } } } });
    for (const w of [deep, ...deep.customer.waybills]) {
      expect(w.sealed.receiver.mobile).toMatch(/^\d{3}\*{4}\d{4}$/);
      expect(Object.keys(w)).not.toContain('receiverMobile');
    }
    expect(JSON.stringify([fluent, deep])).not.toMatch(/"enc"|"tok"|"\$tag"/);
    const viaOutlet = await (prisma as unknown as { outlet: Delegate }).outlet.findUnique({ where: { id: 'O1' }, include: { waybills: true } });
    expect(JSON.stringify(viaOutlet)).not.toMatch(/"enc"|"tok"|"\$tag"|receiverLast4/);
  });

  it('attack (review F3/F4): tokens cannot be read through aggregates nor used as filters anywhere but the guarded top-level search', async () => {
    await expect(prisma.waybill.aggregate({ _max: { receiverMobile: true } })).rejects.toThrow(UnsupportedQueryError);
    await expect(prisma.waybill.groupBy({ by: ['receiverLast4'] } as object as never)).rejects.toThrow(UnsupportedQueryError);
    await expect(prisma.customer.findMany({ select: { id: true, waybills: { where: { receiverMobile: '1.abc' } } } })).rejects.toThrow(UnsupportedQueryError);
    await expect(prisma.customer.findMany({ where: { waybills: { some: { receiverLast4: '1.abc' } } } })).rejects.toThrow(UnsupportedQueryError);
    await expect((prisma.customer.findUnique({ where: { id: 'c1' } }) as unknown as { waybills(a: object): Promise<unknown> }).waybills({ where: { receiverMobile: '1.abc' } })).rejects.toThrow(UnsupportedQueryError);
    await expect(prisma.customer.findMany({ include: { waybills: { orderBy: { receiverLast4: 'asc' } } } })).rejects.toThrow(UnsupportedQueryError);
    await expect(prisma.customer.findMany({ where: { waybills: { some: { sealed: { path: ['receiver', 'mobile', 'mask', 'screen'], string_contains: '5678' } } } } })).rejects.toThrow(UnsupportedQueryError);
    expect(audit.events.filter((e) => e.type === 'search').every((e) => e.principal.startsWith('station-'))).toBe(true);
  });

  it('attack (review F5): a query the database refuses does not print the sealed record or its tokens', async () => {
    const again = parcel(0, '13900001111', 'OUT-A'); // w0 exists: a unique violation
    const err = await prisma.waybill.create({ data: { id: 'w0', sealed: again } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ORM_QUERY_FAILED', prismaCode: 'P2002' });
    expect(String((err as Error).message) + JSON.stringify(err)).not.toMatch(/ws1\.|\*{4}|"tok"/);
  });

  it('attack (review F6): a database writer who copies another row\'s sealed record over a row gets an integrity error, on read and on open', async () => {
    await raw.query(`UPDATE waybill SET sealed = (SELECT sealed FROM waybill WHERE id = 'w3') WHERE id = 'w1'`);
    await expect(prisma.waybill.findUnique({ where: { id: 'w1' } })).rejects.toThrow(IntegrityError);
    await expect(seal.open(prisma, 'Waybill', { id: 'w1' }, { principal: 'agent-7', purpose: 'customer-service', context: { ticket: 'T-2' } })).rejects.toThrow(IntegrityError);
  });

  it('a database writer who edits a stored mask gets an integrity error on read, not a forged phone on the screen', async () => {
    await raw.query(`UPDATE waybill SET sealed = jsonb_set(sealed, '{receiver,mobile,mask,screen}', '"139****9999"') WHERE id = 'w2'`);
    await expect(prisma.waybill.findUnique({ where: { id: 'w2' } })).rejects.toThrow(IntegrityError);
  });

  it('the README migration from plaintext: plain JSON in the column, sealed in place by the migration worker, token columns filled by SQL, then found by search', async () => {
    const legacy = parcel(20, '13700007777', 'OUT-A');
    await raw.query(`INSERT INTO waybill (id, sealed) VALUES ('w20', $1::jsonb)`, [JSON.stringify(legacy)]);
    const url = new URL(server.url!);
    url.pathname = `/${DB}`;
    const pool = new pg.Pool({ connectionString: url.href, max: 2 });
    try {
      await planMigration(pool, { job: 'prisma-seal', table: 'waybill', column: 'sealed', chunkSize: 100 });
      const migrator = createSealer({ keyring, keyStore, passSealed: true });
      await runMigrationWorker(pool, { job: 'prisma-seal', table: 'waybill', column: 'sealed', transform: sealRows(migrator, waybill), maintenanceIntervalSeconds: 1 });
      migrator.close();
    } finally {
      await pool.end();
    }
    await raw.query(`UPDATE waybill SET "receiverMobile" = sealed->'receiver'->'mobile'->'tok'->>'receiver.mobile',
      "receiverLast4" = sealed->'receiver'->'mobile'->'tok'->>'receiver.mobile:last4'`);
    const { rows } = await raw.query(`SELECT sealed FROM waybill WHERE id = 'w20'`);
    expect(rows[0].sealed.receiver.mobile.enc).toMatch(/^ws1\./);
    expect(findPlaintext(rows, [legacy], { schema: waybill })).toEqual([]);
    const found = await seal.as(station('OUT-A'), () => prisma.waybill.findMany({ where: { receiverLast4: '7777' } }));
    expect(found.map((w) => w.id)).toEqual(['w20']);
  });

  it('the 61st search of a station in an hour is refused and audited', async () => {
    const as = () => seal.as(station('OUT-B'), () => prisma.waybill.count({ where: { receiverLast4: '5678' } }));
    let refused: unknown;
    for (let i = 0; i < 70 && refused === undefined; i++) await as().catch((e: unknown) => (refused = e));
    expect(refused).toBeInstanceOf(AccessDeniedError);
    const mine = audit.events.filter((e): e is SearchEvent => e.type === 'search' && e.principal === 'station-OUT-B');
    expect(mine.some((e) => e.outcome === 'denied')).toBe(true);
    now += 3_600_001;
    await expect(as()).resolves.toBe(1);
  });
});

describe('waybill-seal/prisma on PGlite (the embedded default: no server)', () => {
  it('seals on create, masks on read, and a station search finds its parcel', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PrismaPGlite } = await import('pglite-prisma-adapter');
    const db = new PGlite();
    await db.exec(`CREATE TABLE customer (id text PRIMARY KEY, name text NOT NULL);
      CREATE TABLE outlet (id text PRIMARY KEY);
      CREATE TABLE waybill (id text PRIMARY KEY, sealed jsonb NOT NULL, "receiverMobile" text, "receiverLast4" text, "customerId" text REFERENCES customer(id), "outletId" text REFERENCES outlet(id))`);
    const { PrismaClient } = (await import(pathToFileURL(join(ROOT, '.tmp/prisma-client/client.ts')).href)) as { PrismaClient: new (o: object) => Client };
    const client = new PrismaClient({ adapter: new PrismaPGlite(db) });
    const events = new MemoryAuditSink();
    const sealer = createSealer({ keyring, keyStore, guard: createAccessGuard({ policy: waybillPolicy, audit: events }) });
    const embedded = prismaSeal({ sealer, models: { Waybill: { schema: waybill, column: 'sealed', tokens: { receiverLast4: 'receiver.mobile:last4' } } } });
    const lite = client.$extends(embedded.extension);
    const p = parcel(30, '13900003333', 'OUT-C');
    expect((await lite.waybill.create({ data: { id: 'w30', sealed: p } })).sealed.receiver.mobile).toBe('139****3333');
    const stored = await db.query('SELECT * FROM waybill');
    expect(findPlaintext(stored.rows, [p], { schema: waybill })).toEqual([]);
    // A parcel of another month: its token is of April's index key. A query gives one token per live
    // month, and the token filter matches any of them (IN on the token column).
    const april = { ...parcel(31, '13700003333', 'OUT-C'), createdAt: '2025-04-10T08:00:00Z' };
    await lite.waybill.create({ data: { id: 'w31', sealed: april } });
    const months = (await db.query<{ receiverLast4: string }>('SELECT "receiverLast4" FROM waybill ORDER BY id')).rows.map((r) => r.receiverLast4.slice(0, 9));
    expect(months).toEqual(['2025-03~1', '2025-04~1']);
    const found = await embedded.as(station('OUT-C'), () => lite.waybill.findMany({ where: { receiverLast4: '3333' }, orderBy: { id: 'asc' } }));
    expect(found.map((w) => w.id)).toEqual(['w30', 'w31']);
    expect(events.events.filter((e) => e.type === 'search').length).toBeGreaterThan(0);
    await client.$disconnect();
    await db.close();
  });
});
