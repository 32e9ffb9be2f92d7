/**
 * npx tsx examples/migrate-plaintext.ts
 *
 * Migrating a table of plaintext waybills to sealed records, in batches, while the application keeps
 * running — on embedded PostgreSQL (PGlite; the same SQL runs on a server through `pg`).
 *
 * - The backfill seals with `passSealed: true`: protected fields that are already sealed pass
 *   through unchanged and only plain ones are sealed, so a run can stop anywhere (crash, deploy,
 *   timeout) and simply be run again. A row is written back only if it changed, and only if nobody
 *   changed it meanwhile (`WHERE doc = <what was read>`): no long locks, no lost updates.
 * - The application opens with `acceptPlaintext: true` during the migration: rows not migrated yet
 *   open through the same policy and audit, and the result lists their plaintext fields.
 * - At the end a strict check (`mask()` refuses any unsealed protected field) proves nothing is left.
 *
 * `passSealed` trusts the sealed fields it is given (their masks and tokens): use it on your own
 * tables, never on records from clients.
 */
import { isDeepStrictEqual } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import {
  createAccessGuard,
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  mask,
  MemoryAuditSink,
  storedToken,
  waybill,
  waybillPolicy,
  type PlainRecord,
  type SealedRecord,
  type Sealer,
  type WaybillSchema,
} from 'waybill-seal';
import { PgKeyStore } from 'waybill-seal/pg';
import { syntheticWaybills } from 'waybill-seal/testing';
import { runIfMain } from './args.js';

export const ROWS = 1000;
export const BATCH = 200;
export const SEED = 20250801;

const say = (s = '') => process.stdout.write(`${s}\n`);

/** A legacy row: the document may be plain, sealed, or partly both (mid-migration). */
type Doc = PlainRecord<WaybillSchema> | SealedRecord<WaybillSchema>;

interface RunSummary {
  scanned: number;
  sealed: number;
  unchanged: number;
  /** Rows changed by someone else between read and write: the next run takes them. */
  conflicts: number;
}

class SimulatedCrash extends Error {}

/**
 * One backfill run: keyset pagination over the primary key, seal each batch outside any
 * transaction (data keys may be created meanwhile), then write the changed rows back in one
 * transaction, each only if it still holds what was read.
 */
async function backfill(db: PGlite, sealer: Sealer, options: { crashAfterBatches?: number } = {}): Promise<RunSummary> {
  const sum: RunSummary = { scanned: 0, sealed: 0, unchanged: 0, conflicts: 0 };
  let after = '';
  for (let batch = 1; ; batch++) {
    const { rows } = await db.query<{ waybill_no: string; doc: Doc }>(
      'SELECT waybill_no, doc FROM shipments WHERE waybill_no > $1 ORDER BY waybill_no LIMIT $2',
      [after, BATCH],
    );
    if (rows.length === 0) return sum;
    const updates: { no: string; before: Doc; after: SealedRecord<WaybillSchema> }[] = [];
    for (const row of rows) {
      const sealed = await sealer.seal(waybill, row.doc as PlainRecord<WaybillSchema>);
      // Fully sealed rows come back equal (jsonb reorders keys, so compare values, not text).
      if (isDeepStrictEqual(sealed, row.doc)) sum.unchanged++;
      else updates.push({ no: row.waybill_no, before: row.doc, after: sealed });
    }
    await db.transaction(async (tx) => {
      for (const u of updates) {
        const { affectedRows } = await tx.query(
          `UPDATE shipments SET doc = $1::jsonb, receiver_mobile_tok = $2, receiver_last4_district_tok = $3, migrated_at = now()
            WHERE waybill_no = $4 AND doc = $5::jsonb`,
          [
            JSON.stringify(u.after),
            storedToken(waybill, u.after, 'receiver.mobile') ?? null,
            storedToken(waybill, u.after, 'receiver.mobile:last4+district') ?? null,
            u.no,
            JSON.stringify(u.before),
          ],
        );
        if (affectedRows === 1) sum.sealed++;
        else sum.conflicts++;
      }
    });
    sum.scanned += rows.length;
    after = rows[rows.length - 1]!.waybill_no;
    if (options.crashAfterBatches === batch) throw Object.assign(new SimulatedCrash('simulated crash'), { sum });
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const db = await PGlite.create();
  try {
    // --- The legacy state: plaintext personal data in a jsonb column.
    await db.exec(`CREATE TABLE shipments (
      waybill_no text PRIMARY KEY,
      doc jsonb NOT NULL,
      receiver_mobile_tok text,
      receiver_last4_district_tok text,
      migrated_at timestamptz
    )`);
    const legacy = syntheticWaybills({ count: ROWS, seed: SEED }).map((w, i) => ({ ...w, routing: { routeId: `R-${(i % 8) + 1}` } }));
    await db.transaction(async (tx) => {
      for (const w of legacy) await tx.query('INSERT INTO shipments (waybill_no, doc) VALUES ($1, $2::jsonb)', [w.waybillNo, JSON.stringify(w)]);
    });
    const plainPhones = async () => {
      const dump = JSON.stringify((await db.query('SELECT doc FROM shipments')).rows);
      return legacy.filter((w) => dump.includes(w.receiver.mobile!) || dump.includes(w.sender.mobile!)).length;
    };
    say(`Legacy table: ${ROWS} shipments with plaintext names, phones, ID numbers and addresses (PGlite started in ${((performance.now() - t0) / 1000).toFixed(1)} s).`);
    say(`  rows whose phone numbers a dump shows in clear: ${await plainPhones()}`);

    // --- Keys: data keys in the same database; KEKs from the keyring (HSM/KMS in production).
    const keyring = new LocalKeyring(generateLocalKeyMaterial());
    const keyStore = await PgKeyStore.create(db);
    const migrator = createSealer({ keyring, keyStore, passSealed: true });
    const audit = new MemoryAuditSink();
    const app = createSealer({ keyring, keyStore, acceptPlaintext: true, guard: createAccessGuard({ policy: waybillPolicy, audit }) });

    // --- Run 1: stops after two batches (a crash, a deploy, a timeout).
    try {
      await backfill(db, migrator, { crashAfterBatches: 2 });
    } catch (e) {
      if (!(e instanceof SimulatedCrash)) throw e;
      const s = (e as SimulatedCrash & { sum: RunSummary }).sum;
      say(`Run 1: sealed ${s.sealed} rows in batches of ${BATCH}, then stopped (simulated crash).`);
    }

    // --- Meanwhile the application keeps working on the half-migrated table.
    const read = async (no: string) => (await db.query<{ doc: Doc }>('SELECT doc FROM shipments WHERE waybill_no = $1', [no])).rows[0]!.doc;
    const agent = { principal: 'agent-7', purpose: 'customer-service', context: { ticket: 'CS-1' }, reveal: 'plain' } as const;
    const migrated = await app.open(waybill, (await read(legacy[0]!.waybillNo)) as SealedRecord<WaybillSchema>, agent);
    const pending = await app.open(waybill, (await read(legacy[ROWS - 1]!.waybillNo)) as SealedRecord<WaybillSchema>, agent);
    say(`App during the migration (acceptPlaintext): a migrated row opens ${migrated.opened.join(', ')} (legacy plaintext fields: ${migrated.plaintext?.length ?? 0});`);
    say(`  a row not migrated yet opens ${pending.opened.join(', ')} too, through the same policy and audit (legacy plaintext fields: ${pending.plaintext?.length ?? 0}).`);
    // It writes new shipments sealed already …
    const fresh = await app.seal(waybill, { ...syntheticWaybills({ count: 1, seed: SEED + 1 })[0]!, waybillNo: 'WS999900000001' });
    await db.query('INSERT INTO shipments (waybill_no, doc, receiver_mobile_tok, receiver_last4_district_tok) VALUES ($1, $2::jsonb, $3, $4)', [
      fresh.waybillNo,
      JSON.stringify(fresh),
      storedToken(waybill, fresh, 'receiver.mobile') ?? null,
      storedToken(waybill, fresh, 'receiver.mobile:last4+district') ?? null,
    ]);
    // … and an old code path still writes one field in clear into a row not migrated yet. (Into a
    // migrated row it would be refused: a sealed field turned into plaintext fails the record tag,
    // in `open` and in the backfill, exactly like a table writer's tampering.)
    await db.query(`UPDATE shipments SET doc = jsonb_set(doc, '{remark}', to_jsonb($1::text)) WHERE waybill_no = $2`, ['易碎，轻放', legacy[ROWS - 2]!.waybillNo]);
    say(`  It stored 1 new shipment (sealed at write) and an old code path wrote a plain remark into 1 row not migrated yet.`);
    say(`  audit events so far: ${audit.events.length}`);

    // --- Run 2 starts from the beginning: sealed fields pass through, plain ones are sealed.
    const run2 = await backfill(db, migrator);
    say(`Run 2 (re-run from the start): scanned ${run2.scanned}, sealed ${run2.sealed}, unchanged ${run2.unchanged}, conflicts ${run2.conflicts}.`);
    const run3 = await backfill(db, migrator);
    say(`Run 3 (nothing left): scanned ${run3.scanned}, sealed ${run3.sealed}, unchanged ${run3.unchanged}.`);

    // --- Proof: every protected field of every row is sealed, and search works on the tokens.
    const all = (await db.query<{ doc: SealedRecord<WaybillSchema> }>('SELECT doc FROM shipments')).rows;
    let strict = 0;
    for (const { doc } of all) {
      try {
        mask(waybill, doc, 'screen'); // throws ValidationError on any unsealed protected field
        strict++;
      } catch {
        // counted as not migrated
      }
    }
    say(`Check: ${strict} of ${all.length} rows fully sealed; rows whose phone numbers a dump shows in clear: ${await plainPhones()}.`);
    // And every row opens with a sealer that accepts no plaintext (ciphertexts, and integrity tags where written).
    const reader = createSealer({ keyring, keyStore, guard: 'allow-all' });
    let opens = 0;
    for (const { doc } of all) {
      try {
        await reader.open(waybill, doc, { principal: 'migration-check', purpose: 'verify', fields: ['receiver.name'] });
        opens++;
      } catch {
        // counted as not opening
      }
    }
    reader.close();
    say(`  ${opens} of ${all.length} rows open with a strict sealer (no acceptPlaintext).`);
    const probe = legacy[500]!;
    const tokens = await app.tokensFor(waybill, 'receiver.mobile:last4+district', [probe.receiver.mobile!.replace(/\D/g, '').slice(-4), probe.receiver.address.district], {
      principal: 'cs-4',
      purpose: 'customer-service',
      context: { ticket: 'T-MIGRATION' },
    });
    const hits = (await db.query<{ waybill_no: string }>('SELECT waybill_no FROM shipments WHERE receiver_last4_district_tok = ANY($1::text[])', [tokens])).rows;
    say(`Search by last four digits + district after the migration: ${hits.some((h) => h.waybill_no === probe.waybillNo) ? 'found' : 'NOT found'} (${hits.length} token match${hits.length === 1 ? '' : 'es'}).`);
    if (strict !== all.length || opens !== all.length || run3.sealed !== 0) process.exitCode = 1;
    migrator.close();
    app.close();
  } finally {
    await db.close();
  }
}

runIfMain(import.meta.url, 'migrate-plaintext', main);
