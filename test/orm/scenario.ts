/**
 * The insider scenario shared by the ORM integration tests (test/prisma, test/typeorm): parcels of
 * two outlets, pickup-station principals, a private database per test file, the migration of plain
 * JSON in place, and the station that spends its search quota.
 */
import pg from 'pg';
import { expect } from 'vitest';
import { AccessDeniedError, createSealer, waybill, type Keyring, type KeyStore, type MemoryAuditSink, type PlainRecord, type SearchEvent, type WaybillSchema } from '../../src/index.js';
import { planMigration, runMigrationWorker, sealRows } from '../../src/pg.js';
import { sampleWaybill } from '../helpers.js';

export type Plain = PlainRecord<WaybillSchema>;

/** Parcel `i` (waybill `<prefix><i>`, also its row id), with its receiver mobile and destination outlet; remembered in `plains`. */
export function parcelMaker(prefix: string, plains: Plain[]): (i: number, mobile: string, outlet: string) => Plain {
  return (i, mobile, outlet) => {
    const w = sampleWaybill();
    w.waybillNo = `${prefix}${i}`; // the row id: `recordIdColumn` binds each sealed record to its row
    w.receiver.mobile = mobile;
    w.receiver.name = ['欧阳娜娜', '张三', '阿依古丽·买买提', '李小龙'][i % 4]!;
    const p = { ...w, routing: { destOutlet: outlet } } as Plain;
    plains.push(p);
    return p;
  };
}

/** A pickup station of one outlet: may search the last-4 indexes within its outlet. */
export const station = (outlet: string) => ({ principal: `station-${outlet}`, purpose: 'pickup', context: { outlet } });

/** A fresh database `name` on the test server; `drop()` removes it. */
export async function privateDatabase(serverUrl: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Seals the plain JSON in `table.column` in place with the migration worker (the README's migration step 3). */
export async function sealInPlace(url: string, table: string, column: string, keys: { keyring: Keyring; keyStore: KeyStore }): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    await planMigration(pool, { job: `${table}-seal`, table, column, chunkSize: 100 });
    const migrator = createSealer({ ...keys, passSealed: true });
    await runMigrationWorker(pool, { job: `${table}-seal`, table, column, transform: sealRows(migrator, waybill), maintenanceIntervalSeconds: 1 });
    migrator.close();
  } finally {
    await pool.end();
  }
}

/**
 * Searches as `principal` until refused: the refusal is an AccessDeniedError, audited as a denied
 * search; after `advance()` moves the clock past the hour, `search()` answers `expected` again.
 */
export async function expectSearchQuotaSpent<T>(search: () => Promise<T>, audit: MemoryAuditSink, principal: string, advance: () => void, expected: T): Promise<void> {
  let refused: unknown;
  for (let i = 0; i < 70 && refused === undefined; i++) await search().catch((e: unknown) => (refused = e));
  expect(refused).toBeInstanceOf(AccessDeniedError);
  const mine = audit.events.filter((e): e is SearchEvent => e.type === 'search' && e.principal === principal);
  expect(mine.some((e) => e.outcome === 'denied')).toBe(true);
  advance();
  await expect(search()).resolves.toBe(expected);
}
