/**
 * waybill-seal/typeorm on a real TypeORM 1.x DataSource (an EntitySchema, the postgres driver over
 * `pg`) against the PostgreSQL server of the test run, query logging on. Written as the insider
 * scenario: a pickup-station principal of one outlet, the search quota, the audit trail, and what
 * reaches the database, the query log and the application's hands.
 */
import pg from 'pg';
import { DataSource, EntitySchema, ILike, In, LessThan, Like, Not, Raw, type Logger, type Repository } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessDeniedError, protectedPaths, createAccessGuard, createSealer, generateLocalKeyMaterial, IntegrityError, LocalKeyring, MemoryAuditSink, MemoryKeyStore, ValidationError, waybill, waybillPolicy, type WaybillSchema } from '../../src/index.js';
import { findPlaintext } from '../../src/testing.js';
import { typeormSeal, UnsupportedQueryError, type SealedRepository, type TypeormSeal } from '../../src/typeorm.js';
import { needPg } from '../keyrings/native.js';
import { expectSearchQuotaSpent, parcelMaker, privateDatabase, sealInPlace, station, type Plain } from '../orm/scenario.js';

const server = needPg();
type Row = Record<string, unknown>;

interface Parcel {
  id: string;
  status: string;
  sealed: unknown;
  receiverMobile?: string | null;
  receiverLast4?: string | null;
  parent?: Parcel | null;
}

const ParcelEntity = new EntitySchema<Parcel>({
  name: 'Parcel',
  tableName: 'parcel',
  columns: {
    id: { type: 'text', primary: true },
    status: { type: 'text', default: 'new' },
    sealed: { type: 'jsonb' },
    receiverMobile: { type: 'text', nullable: true, name: 'receiver_mobile_tok' },
    receiverLast4: { type: 'text', nullable: true, name: 'receiver_last4_tok' },
  },
  indices: [{ columns: ['receiverMobile'] }, { columns: ['receiverLast4'] }],
  relations: { parent: { type: 'many-to-one', target: 'Parcel', nullable: true } },
});

const DB = `ws_typeorm_${process.pid}`;
const queries: string[] = [];
const logger: Logger = {
  logQuery: (q, p) => void queries.push(`${q} ${JSON.stringify(p ?? [])}`),
  logQueryError: (e, q, p) => void queries.push(`ERROR ${String(e)} ${q} ${JSON.stringify(p ?? [])}`),
  logQuerySlow: (_t, q, p) => void queries.push(`${q} ${JSON.stringify(p ?? [])}`),
  logSchemaBuild: (m) => void queries.push(m),
  logMigration: (m) => void queries.push(m),
  log: (_l, m) => void queries.push(String(m)),
};

let database: Awaited<ReturnType<typeof privateDatabase>>;
let raw: pg.Client;
let ds: DataSource;
let repo: Repository<Parcel>;
let parcels: SealedRepository<Parcel>;
let seal: TypeormSeal;
let audit: MemoryAuditSink;
const plains: Plain[] = [];
let now = Date.parse('2026-03-01T08:00:00Z');
const keyring = new LocalKeyring(generateLocalKeyMaterial());
const keyStore = new MemoryKeyStore();

const parcel = parcelMaker('p', plains);

beforeAll(async () => {
  if (!server.url) return;
  database = await privateDatabase(server.url, DB);
  raw = new pg.Client({ connectionString: database.url });
  await raw.connect();
  audit = new MemoryAuditSink();
  const guard = createAccessGuard({ policy: waybillPolicy, audit, now: () => now });
  const sealer = createSealer({ keyring, keyStore, guard });
  seal = typeormSeal({
    sealer,
    entities: { Parcel: { schema: waybill, column: 'sealed', recordIdColumn: 'id', tokens: { receiverMobile: 'receiver.mobile', receiverLast4: 'receiver.mobile:last4' } } },
  });
  ds = new DataSource({ type: 'postgres', url: database.url, entities: [ParcelEntity], subscribers: [seal.subscriber], synchronize: true, logging: 'all', logger });
  await ds.initialize();
  repo = ds.getRepository(ParcelEntity);
  parcels = seal.repository(repo);
}, 120_000);

afterAll(async () => {
  if (ds?.isInitialized) await ds.destroy();
  await raw?.end();
  await database?.drop();
});

describe.skipIf(server.skip !== undefined)('waybill-seal/typeorm (TypeORM 1.x, postgres driver, PostgreSQL)', () => {
  it('insert, save (one and many) and the entity manager seal before anything reaches the database', async () => {
    await repo.insert({ id: 'p0', sealed: parcel(0, '13900001111', 'OUT-A') });
    await repo.save([1, 2, 3].map((i) => ({ id: `p${i}`, sealed: parcel(i, ['13700001111', '13900002222', '13600002222'][i - 1]!, i % 2 === 0 ? 'OUT-A' : 'OUT-B') })));
    await ds.manager.save(ParcelEntity, { id: 'p4', sealed: parcel(4, '13512345678', 'OUT-A') });
    await ds.transaction((tx) => tx.insert(ParcelEntity, { id: 'p5', sealed: parcel(5, '13812345678', 'OUT-B') }));

    const { rows } = await raw.query(`SELECT * FROM parcel ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
    for (const r of rows) {
      expect(r.sealed.receiver.mobile.enc).toMatch(/^ws1\./);
      expect(r.receiver_mobile_tok).toMatch(/^\d{4}-\d{2}~\d+\./);
      expect(r.receiver_last4_tok).toMatch(/^\d{4}-\d{2}~\d+\./);
    }
    // Nothing of the plain records in the table, nor in any query TypeORM logged (parameters included).
    expect(queries.some((q) => q.startsWith('INSERT INTO "parcel"'))).toBe(true);
    expect(findPlaintext(rows, plains)).toEqual([]);
    expect(findPlaintext(queries, plains)).toEqual([]);
  });

  it('reads through the sealed repository are masked views; token columns never come back', async () => {
    const all = await parcels.find({ order: { id: 'ASC' } });
    expect(all.map((p) => (p['sealed'] as { receiver: { mobile: string } }).receiver.mobile)).toEqual([
      '139****1111',
      '137****1111',
      '139****2222',
      '136****2222',
      '135****5678',
      '138****5678',
    ]);
    for (const p of all) expect(Object.keys(p)).not.toContain('receiverLast4');
    expect(await parcels.findOneBy({ id: 'p3' })).toMatchObject({ id: 'p3', status: 'new' });
    expect(await parcels.count()).toBe(6);
    expect(findPlaintext(all, plains)).toEqual([]);
  });

  it("a station finds its own parcel by the last four digits; another outlet's parcel with the same digits is not returned", async () => {
    const mine = await seal.as(station('OUT-A'), () => parcels.findBy({ receiverLast4: '1111' }));
    expect(mine.map((p) => p['id'])).toEqual(['p0']); // p1 has 1111 too, at OUT-B
    const theirs = await seal.as(station('OUT-B'), () => parcels.find({ where: { receiverLast4: '1111' } }));
    expect(theirs.map((p) => p['id'])).toEqual(['p1']);
    expect(await seal.as(station('OUT-A'), () => parcels.countBy({ receiverLast4: '2222' }))).toBe(1);
    const first = await seal.as(station('OUT-B'), () => parcels.findOne({ where: { receiverLast4: '2222' }, select: { id: true } }));
    expect(first).toEqual({ id: 'p3' });
    // Audited without the value or a token; the query log holds tokens, never the digits.
    const searches = audit.events.filter((e) => e.type === 'search');
    expect(searches.length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(audit.events)).not.toContain('1111');
    expect(findPlaintext(queries, plains)).toEqual([]);
    expect(queries.filter((q) => q.includes('receiver_last4_tok" IN')).every((q) => !q.includes('"1111"'))).toBe(true);
  });

  it('a token filter without a search request is refused (search is an access); the station cannot search the full mobile', async () => {
    await expect(parcels.findBy({ receiverLast4: '1111' })).rejects.toThrow(AccessDeniedError);
    await expect(seal.as(station('OUT-A'), () => parcels.findBy({ receiverMobile: '13900001111' }))).rejects.toThrow(AccessDeniedError);
  });

  it('queries that would need plaintext are refused with UnsupportedQueryError', async () => {
    const as = <T>(f: () => Promise<T>) => seal.as(station('OUT-A'), f);
    for (const where of [
      { receiverLast4: Like('%11') },
      { receiverLast4: ILike('%11') },
      { receiverLast4: LessThan('2') },
      { receiverLast4: In(['1111', '2222']) },
      { receiverLast4: Not('1111') },
      { receiverLast4: Raw((a) => `${a} IS NOT NULL`) },
      { sealed: Raw((a) => `${a}->'receiver' IS NOT NULL`) },
    ]) {
      await expect(as(() => parcels.findBy(where as never)), JSON.stringify(Object.keys(where))).rejects.toThrow(UnsupportedQueryError);
    }
    await expect(parcels.find({ order: { receiverMobile: 'ASC' } })).rejects.toThrow(UnsupportedQueryError);
    await expect(parcels.find({ order: { sealed: 'DESC' } })).rejects.toThrow(UnsupportedQueryError);
    await expect(as(() => parcels.find({ where: [{ receiverLast4: '1111' }, { id: 'p3' }] }))).rejects.toThrow(UnsupportedQueryError);
    await expect(as(() => parcels.findBy({ receiverLast4: '1111', receiverMobile: '13900001111' }))).rejects.toThrow(UnsupportedQueryError);
    await expect(parcels.open({ receiverLast4: '1111' }, { principal: 'agent-7', purpose: 'customer-service', context: { ticket: 'T-1' } })).rejects.toThrow(UnsupportedQueryError);
    expect(await repo.count()).toBe(6);
  });

  it('a masked view read back cannot be saved over the sealed record; token columns set by hand are replaced', async () => {
    const view = (await parcels.findOneBy({ id: 'p0' }))!;
    await expect(repo.save({ ...(view as unknown as Parcel), status: 'delivered' })).rejects.toThrow(UnsupportedQueryError);
    // Other columns are updated by id; the sealed record is untouched.
    await repo.update({ id: 'p0' }, { status: 'delivered' });
    const { rows } = await raw.query(`SELECT status, sealed, receiver_last4_tok FROM parcel WHERE id = 'p0'`);
    expect(rows[0].status).toBe('delivered');
    expect(rows[0].sealed.receiver.mobile.enc).toMatch(/^ws1\./);
    // A forged token column is not written: the subscriber derives tokens from the record.
    await repo.save({ id: 'p9', sealed: parcel(9, '13900009999', 'OUT-A'), receiverLast4: '1.forged' });
    const forged = await raw.query(`SELECT receiver_last4_tok FROM parcel WHERE id = 'p9'`);
    expect(forged.rows[0].receiver_last4_tok).not.toBe('1.forged');
    expect(await seal.as(station('OUT-A'), () => parcels.countBy({ receiverLast4: '9999' }))).toBe(1);
    // A masked value written as if it were plain is refused by the schema.
    await expect(repo.insert({ id: 'px', sealed: { ...plains[0]!, receiver: { ...plains[0]!.receiver, mobile: '139****1111' } } })).rejects.toThrow(ValidationError);
  });

  it('update reseals the replacement record; the tokens follow it', async () => {
    const moved: Plain = { ...plains[4]!, receiver: { ...plains[4]!.receiver, mobile: '13500004444' } };
    plains.push(moved);
    await repo.update({ id: 'p4' }, { id: 'p4', sealed: moved });
    expect(((await parcels.findOneBy({ id: 'p4' }))!['sealed'] as { receiver: { mobile: string } }).receiver.mobile).toBe('135****4444');
    expect(await seal.as(station('OUT-A'), () => parcels.countBy({ receiverLast4: '4444' }))).toBe(1);
    expect(await seal.as(station('OUT-A'), () => parcels.countBy({ receiverLast4: '5678' }))).toBe(0);
    expect(findPlaintext(queries, plains)).toEqual([]);
  });

  it('a token column written by hand without the record (to hide a row from search or aim it at another value) is refused', async () => {
    const before = (await raw.query(`SELECT receiver_mobile_tok, receiver_last4_tok FROM parcel WHERE id = 'p2'`)).rows[0];
    await expect(repo.update({ id: 'p2' }, { receiverMobile: 'forged-token' })).rejects.toThrow(UnsupportedQueryError);
    await expect(repo.save({ id: 'p2', receiverLast4: '1.forged' } as Parcel)).rejects.toThrow(UnsupportedQueryError);
    await expect(ds.createQueryBuilder().update(ParcelEntity).set({ receiverLast4: null }).where('id = :id', { id: 'p2' }).execute()).rejects.toThrow(UnsupportedQueryError);
    expect((await raw.query(`SELECT receiver_mobile_tok, receiver_last4_tok FROM parcel WHERE id = 'p2'`)).rows[0]).toEqual(before);
  });

  it('an update of the sealed record by criteria other than its row id cannot copy one record over many rows', async () => {
    const before = (await raw.query(`SELECT id, sealed->>'waybillNo' AS rec FROM parcel ORDER BY id`)).rows;
    const p9 = plains.find((p) => p.waybillNo === 'p9')!;
    // The set names no row: the subscriber cannot see the criteria, so it refuses.
    await expect(repo.update({ status: 'new' }, { sealed: p9 })).rejects.toThrow(UnsupportedQueryError);
    await expect(ds.createQueryBuilder().update(ParcelEntity).set({ sealed: p9 }).where('status = :s', { s: 'new' }).execute()).rejects.toThrow(UnsupportedQueryError);
    // With the row id in the set, several rows cannot all take it (primary key), and another id is refused.
    await expect(repo.update({ status: 'new' }, { id: 'p9', sealed: p9 })).rejects.toThrow();
    await expect(repo.update({ id: 'p2' }, { id: 'p2', sealed: p9 })).rejects.toThrow(ValidationError);
    expect((await raw.query(`SELECT id, sealed->>'waybillNo' AS rec FROM parcel ORDER BY id`)).rows).toEqual(before);
  });

  it('plaintext only through open: the guard decides, the audit records it', async () => {
    const opened = await parcels.open<WaybillSchema>({ id: 'p0' }, { principal: 'agent-7', purpose: 'customer-service', context: { ticket: 'T-1' }, reveal: 'plain' });
    expect(opened.opened).toEqual(['receiver.mobile']);
    expect(opened.record.receiver.mobile).toBe('13900001111');
    expect(audit.events.some((e) => e.type === 'access' && e.principal === 'agent-7')).toBe(true);
    await expect(parcels.open({ id: 'p0' }, { principal: 'agent-7', purpose: 'customer-service' })).rejects.toThrow(AccessDeniedError);
    // The station (pickup, its own outlet) cannot open another outlet's parcel.
    await expect(parcels.open({ id: 'p1' }, { ...station('OUT-A'), reveal: 'plain' })).rejects.toThrow(AccessDeniedError);
    expect(findPlaintext([queries, audit.events], plains)).toEqual([]);
  });

  it('a database writer who edits a stored mask gets an integrity error on read, not a forged phone on the screen', async () => {
    await raw.query(`UPDATE parcel SET sealed = jsonb_set(sealed, '{receiver,mobile,mask,screen}', '"139****9999"') WHERE id = 'p2'`);
    await expect(parcels.findOneBy({ id: 'p2' })).rejects.toThrow(IntegrityError);
  });

  it('a relation to a sealed entity is masked and tag-checked, and cannot carry a token filter or order (no search without the guard)', async () => {
    await repo.update({ id: 'p1' }, { parent: { id: 'p0' } });
    await repo.update({ id: 'p3' }, { parent: { id: 'p2' } }); // p2's stored mask was edited above
    const [child] = await parcels.find({ where: { id: 'p1' }, relations: { parent: true } });
    const parent = child!['parent'] as Row;
    expect((parent['sealed'] as { receiver: { mobile: string } }).receiver.mobile).toBe('139****1111');
    expect(Object.keys(parent)).not.toContain('receiverMobile');
    expect(JSON.stringify(parent)).not.toMatch(/ws1\.|"tok"/);
    await expect(parcels.find({ where: { id: 'p3' }, relations: { parent: true } })).rejects.toThrow(IntegrityError);
    // The attacker's linkage: a token read from a relation, then every row whose parent has it, with no search request.
    const tok = (await raw.query(`SELECT receiver_mobile_tok t FROM parcel WHERE id = 'p0'`)).rows[0].t as string;
    const before = audit.events.length;
    for (const where of [{ parent: { receiverMobile: tok } }, [{ id: 'p9' }, { parent: { receiverLast4: tok } }], { parent: { parent: { sealed: Raw((a) => `${a} IS NOT NULL`) } } }]) {
      await expect(parcels.find({ where: where as never }), JSON.stringify(where)).rejects.toThrow(UnsupportedQueryError);
      await expect(parcels.count({ where: where as never })).rejects.toThrow(UnsupportedQueryError);
    }
    await expect(parcels.find({ relations: { parent: true }, order: { parent: { receiverMobile: 'ASC' } } })).rejects.toThrow(UnsupportedQueryError);
    await expect(parcels.open({ parent: { receiverMobile: tok } }, { principal: 'agent-7', purpose: 'customer-service', context: { ticket: 'T-1' } })).rejects.toThrow(UnsupportedQueryError);
    expect(audit.events.length).toBe(before);
    // Plain columns of a relation still filter.
    expect((await parcels.find({ where: { parent: { id: 'p0' } } })).map((p) => p['id'])).toEqual(['p1']);
  });

  it("a database writer who copies another row's sealed record over a row gets an integrity error, and the open is refused", async () => {
    await raw.query(`UPDATE parcel SET sealed = (SELECT sealed FROM parcel WHERE id = 'p3') WHERE id = 'p9'`);
    await expect(parcels.findOneBy({ id: 'p9' })).rejects.toThrow(IntegrityError);
    await expect(parcels.open({ id: 'p9' }, { principal: 'agent-7', purpose: 'customer-service', context: { ticket: 'T-1' } })).rejects.toThrow(IntegrityError);
    // Written under another row id through TypeORM: refused before it reaches the database.
    await expect(repo.insert({ id: 'p31', sealed: parcel(32, '13900003232', 'OUT-A') })).rejects.toThrow(ValidationError);
  });

  it('the README migration from plaintext: plain JSON in the column, sealed in place by the migration worker, token columns filled by SQL, then found by search', async () => {
    const legacy = parcel(20, '13700007777', 'OUT-A');
    await raw.query(`INSERT INTO parcel (id, status, sealed) VALUES ('p20', 'new', $1::jsonb)`, [JSON.stringify(legacy)]);
    await sealInPlace(database.url, 'parcel', 'sealed', { keyring, keyStore });
    await raw.query(`UPDATE parcel SET receiver_mobile_tok = sealed->'receiver'->'mobile'->'tok'->>'receiver.mobile',
      receiver_last4_tok = sealed->'receiver'->'mobile'->'tok'->>'receiver.mobile:last4'`);
    const { rows } = await raw.query(`SELECT sealed FROM parcel WHERE id = 'p20'`);
    expect(rows[0].sealed.receiver.mobile.enc).toMatch(/^ws1\./);
    expect(findPlaintext(rows, [legacy])).toEqual([]);
    const found = await seal.as(station('OUT-A'), () => parcels.findBy({ receiverLast4: '7777' }));
    expect(found.map((p) => p['id'])).toEqual(['p20']);
  });

  it('writes with listeners off skip the subscriber: the README CHECK constraint refuses their plaintext', async () => {
    // The README snippet, for the protected paths of the waybill schema.
    const paths = [...protectedPaths(waybill)].map((p) => `{${p.replaceAll('.', ',')}}`);
    await raw.query(`ALTER TABLE parcel ADD CONSTRAINT parcel_sealed_paths CHECK (${paths.map((p) => `jsonb_typeof(sealed #> '${p}') IS DISTINCT FROM 'string'`).join(' AND ')})`);
    const plain = parcel(40, '13900004040', 'OUT-A');
    await expect(repo.save({ id: 'p40', sealed: plain }, { listeners: false })).rejects.toThrow(/parcel_sealed_paths/);
    await expect(ds.createQueryBuilder().insert().into(ParcelEntity).values({ id: 'p40', sealed: plain }).callListeners(false).execute()).rejects.toThrow(/parcel_sealed_paths/);
    await repo.insert({ id: 'p40', sealed: plain }); // through the subscriber: sealed, accepted
    const { rows } = await raw.query(`SELECT sealed FROM parcel WHERE id = 'p40'`);
    expect(findPlaintext(rows, [plain])).toEqual([]);
  });

  it('the 61st search of a station in an hour is refused and audited', async () => {
    const search = () => seal.as(station('OUT-B'), () => parcels.countBy({ receiverLast4: '1111' }));
    await expectSearchQuotaSpent(search, audit, 'station-OUT-B', () => (now += 3_600_001), 1);
  });
});
