/**
 * What the ORM integrations share: how one entity/model row holds a schema's record (a JSON column
 * with the sealed record, token columns copied from it), sealing a row before a write, the masked
 * view of a row after a read, and confirming token candidates through a finder.
 */
import { IntegrityError, UnsupportedQueryError } from '../errors.js';
import type { IndexName } from '../schema/indexes.js';
import type { PlainRecord, Schema, SealedRecord } from '../schema/schema.js';
import { mask, type Profile } from '../seal/mask-view.js';
import type { Sealer } from '../seal/sealer.js';
import { storedToken, type Finder } from '../search/find.js';

/** How one ORM model (entity) holds a schema's records. */
export interface SealedModel<S extends Schema = Schema> {
  readonly schema: S;
  /** The JSON column (property) that holds the sealed record. */
  readonly column: string;
  /** Token columns (nullable text, indexed): property name → index name of the schema. */
  readonly tokens?: Readonly<Record<string, IndexName<S>>>;
  /**
   * A plain column holding the record id (the schema's `recordId`): reads check that the sealed
   * record belongs to its row (a database writer cannot copy another row's record over it).
   */
  readonly recordIdColumn?: string;
  /** Mask profile of reads (default `screen`). */
  readonly profile?: Profile;
}

export type Row = Record<string, unknown>;

/** Seals the plain record in `row[model.column]` in place and fills the token columns from it. Token columns given by hand are refused. */
export async function sealRow(sealer: Sealer, name: string, model: SealedModel, row: Row): Promise<void> {
  refuseTokenColumns(name, model, row);
  if (!(model.column in row)) return;
  const sealed = await sealer.seal(model.schema, row[model.column] as PlainRecord<Schema>);
  row[model.column] = sealed;
  fillTokens(model, sealed, row);
}

/** Token columns are derived from the sealed record only: a write that sets one by hand is refused. */
export function refuseTokenColumns(name: string, model: SealedModel, row: Row): void {
  for (const col of Object.keys(model.tokens ?? {})) if (col in row) throw new UnsupportedQueryError(name, col, 'token columns are written by sealing only');
}

/** Sets the token columns of `row` from its sealed record (no key needed: the record carries them). */
export function fillTokens(model: SealedModel, sealed: SealedRecord<Schema>, row: Row): void {
  for (const [col, index] of Object.entries(model.tokens ?? {})) row[col] = storedToken(model.schema, sealed, index) ?? null;
}

/**
 * The masked view of a row in place: token columns removed, the sealed column replaced by its masks
 * after its integrity tag verifies (a changed row throws `IntegrityError`, it is never shown).
 * Returns the masked value (undefined when the row has no sealed column).
 */
export async function maskRow(sealer: Sealer, model: SealedModel, row: Row): Promise<unknown> {
  for (const col of Object.keys(model.tokens ?? {})) delete row[col];
  const sealed = row[model.column];
  if (sealed === undefined || sealed === null) return undefined;
  const checked = await sealer.verify(model.schema, sealed as SealedRecord<Schema>);
  if (!checked.ok) throw new IntegrityError(checked.path, checked.reason);
  checkRowBinding(model, row);
  return (row[model.column] = mask(model.schema, sealed as SealedRecord<Schema>, model.profile ?? 'screen'));
}

/** The rows whose sealed record the finder confirms (decrypted comparison inside the sealer); audits the counts. */
export async function confirmRows<R extends Row>(finder: Finder<Schema>, model: SealedModel, rows: readonly R[]): Promise<R[]> {
  const confirmed: R[] = [];
  try {
    for (const row of rows) {
      checkRowBinding(model, row);
      if (await finder.matches(row[model.column] as SealedRecord<Schema>)) confirmed.push(row);
    }
  } finally {
    await finder.done();
  }
  return confirmed;
}

/** `rows[skip, skip + take)`: paging applied after confirmation (token matches include false positives). */
export function pageOf<R>(rows: readonly R[], skip: number | undefined, take: number | undefined): R[] {
  const from = skip ?? 0;
  return rows.slice(from, take === undefined ? undefined : from + take);
}

/** A sealed record in a row whose record-id column names another record was copied there by a database writer. */
export function checkRowBinding(model: SealedModel, row: Row): void {
  const sealed = row[model.column];
  if (!model.recordIdColumn || !(model.recordIdColumn in row) || sealed === null || typeof sealed !== 'object') return;
  if (row[model.recordIdColumn] !== (sealed as Row)[model.schema.recordId]) throw new IntegrityError(model.recordIdColumn, 'record belongs to another row');
}
