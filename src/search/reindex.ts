/**
 * Re-indexing: a streaming, resumable, idempotent pass that rewrites the `tok` members of sealed
 * records with tokens of the index key generation new seals of their month take, recomputed from the
 * plaintext it opens (purpose `reindex`). Ciphertexts and masks are kept as they are. It moves
 * records off a retired index key generation (index-key rotation), re-tokens them after an index
 * definition changed, and moves records sealed before per-month index keys, whose tokens came from
 * the key file's long-lived `index` secret (`<version>.…`), without needing that secret:
 *   1. run `reindex` over the stored records and write each emitted record back (persist
 *      `checkpoint` as you go; after a crash pass `resumeFrom: checkpoint` with the same input order);
 *   2. when it has gone through every record, drop the index secret from the keyring and key file
 *      (`waybill-seal keys drop-index-secret`): nothing reads it, and whoever holds it computes the
 *      old tokens still stored in backups.
 */
import { ConfigError, ShreddedError } from '../errors.js';
import type { ProtectedPath } from '../schema/paths.js';
import type { Schema, SealedRecord } from '../schema/schema.js';
import { walkRecord } from '../schema/walk.js';
import { isSealedField, type SealedField } from '../format/sealed-field.js';
import { isRecordFault, sealerInternals, type Sealer, type SealerInternals } from '../seal/sealer.js';
import type { ReindexProgress } from '../access/shred.js';
import type { IndexSpec } from '../schema/indexes.js';
import { indexesOf } from './engine.js';
import { valueAt } from './transforms.js';

export interface ReindexOptions {
  /**
   * Records an earlier run finished, consumed from the input, not emitted: its last item's `pass`
   * (which carries the pass's start time and failures on, as index-key rotation step 3 needs), or
   * its last `checkpoint`.
   */
  readonly resumeFrom?: number | ReindexProgress;
  /** Principal that opens the index sources (default `system:reindex`); the purpose is `reindex`. */
  readonly principal?: string;
  /** Evidence passed to the access policy. */
  readonly context?: Readonly<Record<string, string>>;
}

export interface ReindexItem<S extends Schema> {
  /** The record with current tokens (the input object itself when nothing changed). */
  readonly record: SealedRecord<S>;
  /** False when the record already held exactly the current tokens (nothing was opened). */
  readonly changed: boolean;
  /** Input records done so far, this one included: persist it to resume. */
  readonly checkpoint: number;
  /**
   * Set when this record could not be re-indexed (its tag or a ciphertext fails, the schema refuses
   * it, a data key is missing: a database writer's doing): the error's code and a message naming the
   * record id and input position, never a value. The record is yielded as it was and the pass goes on.
   */
  readonly failed?: { readonly code: string; readonly message: string };
  /** The pass so far (this record included): persist it to resume; the last one is step 3's `reindexed`. */
  readonly pass: ReindexProgress;
}

/**
 * `sealer` must come from `createSealer`: re-indexing computes tokens of the values it opened through
 * the sealer's internal token capability, which the public API does not offer (no token oracle).
 */
export async function* reindex<S extends Schema>(
  sealer: Sealer,
  schema: S,
  records: AsyncIterable<SealedRecord<S>> | Iterable<SealedRecord<S>>,
  options: ReindexOptions = {},
): AsyncGenerator<ReindexItem<S>> {
  const internals = sealerInternals(sealer);
  const resumed = typeof options.resumeFrom === 'object' ? options.resumeFrom : undefined;
  const skip = resumed?.checkpoint ?? (options.resumeFrom as number | undefined) ?? 0;
  const specs = Object.values(indexesOf(schema));
  const pass = await internals.reindexPass();
  // A pass resumed from a bare checkpoint number started at an unknown time (step 3 refuses it).
  const startedAt = resumed !== undefined ? resumed.startedAt : options.resumeFrom === undefined || options.resumeFrom === 0 ? pass.startedAt : undefined;
  let failed = resumed?.failed ?? 0;
  let seen = 0;
  for await (const record of records) {
    seen++;
    if (seen <= skip) continue;
    let item: Pick<ReindexItem<S>, 'record' | 'changed' | 'failed'>;
    try {
      const current = await isCurrent(schema, specs, record, (index, token) => pass.current(schema, record, index, token));
      const updated = current ? undefined : await retoken(sealer, internals, schema, specs, record, options);
      item = { record: updated ?? record, changed: updated !== undefined };
    } catch (e) {
      // One bad row must not stop the pass for good (resuming would hit it again) nor hide which it is.
      if (!isRecordFault(e)) throw e;
      failed++;
      const id = valueAt(record, schema.recordId);
      const code = (e as { code?: unknown }).code;
      item = { record, changed: false, failed: { code: typeof code === 'string' ? code : 'FAILED', message: `record ${typeof id === 'string' ? JSON.stringify(id.slice(0, 80)) : '(no id)'} (input ${seen}): ${(e as Error).message}` } };
    }
    yield { ...item, checkpoint: seen, pass: { ...(startedAt === undefined ? {} : { startedAt }), checkpoint: seen, failed } };
  }
}

/**
 * Every stored token is current (of the generation new seals of the record's month
 * take), and every index whose sources are present has one.
 */
async function isCurrent(schema: Schema, specs: readonly IndexSpec[], record: unknown, current: (index: string, token: string) => Promise<boolean>): Promise<boolean> {
  const { leaves } = walkRecord(schema.shape, record, 'sealed');
  const expected = new Map<string, Set<string>>();
  for (const spec of specs) {
    if (!spec.parts.every((p) => valueAt(record, p.path) !== undefined)) continue;
    const primary = spec.parts[0]!.path;
    if (!expected.has(primary)) expected.set(primary, new Set());
    expected.get(primary)!.add(spec.name);
  }
  for (const leaf of leaves) {
    const tok = leaf.value.tok ?? {};
    const want = expected.get(leaf.path) ?? new Set<string>();
    if (Object.keys(tok).length !== want.size) return false;
    for (const [name, token] of Object.entries(tok)) if (!want.has(name) || typeof token !== 'string' || !(await current(name, token))) return false;
  }
  return true;
}

async function retoken<S extends Schema>(
  sealer: Sealer,
  internals: SealerInternals,
  schema: S,
  specs: readonly IndexSpec[],
  sealed: SealedRecord<S>,
  options: ReindexOptions,
): Promise<SealedRecord<S>> {
  const sources = [...new Set(specs.flatMap((s) => s.parts.filter((p) => p.protected && isSealedField(valueAt(sealed, p.path))).map((p) => p.path)))];
  let opened: { record: unknown; opened: readonly string[]; withheld?: readonly { path: string; reason: string }[] } = { record: sealed, opened: [] };
  if (sources.length > 0) {
    try {
      opened = await sealer.open(schema, sealed, {
        principal: options.principal ?? 'system:reindex',
        purpose: 'reindex',
        fields: sources as ProtectedPath<S>[],
        reveal: 'plain',
        ...(options.context ? { context: options.context } : {}),
      });
    } catch (e) {
      // Every source shredded: nothing can be indexed any more, and stale tokens are dropped.
      if (!(e instanceof ShreddedError)) throw e;
    }
  }
  // A shredded source can never be indexed again; anything else withheld (policy, missing KEK) must
  // not silently strip a record's tokens.
  const blocked = (opened.withheld ?? []).filter((w) => w.reason !== 'shredded');
  if (blocked.length > 0) {
    throw new ConfigError(`reindex could not open ${blocked.map((w) => `${w.path} (${w.reason})`).join(', ')}`);
  }
  const readable = new Set(opened.opened);
  // Fields not opened hold masks in `opened.record`: indexes reading them get no token. With none
  // left (every source shredded) no token is computed, so no index key is made for a shredded month.
  const usable = new Set(specs.filter((s) => s.parts.every((p) => !p.protected || readable.has(p.path))).map((s) => s.name));
  const tokens = usable.size === 0 ? {} : await internals.recordTokens(schema, opened.record, { lenient: true });
  const { copy, leaves } = walkRecord(schema.shape, sealed, 'sealed');
  for (const leaf of leaves) {
    const tok = Object.fromEntries(Object.entries(tokens[leaf.path] ?? {}).filter(([name]) => usable.has(name)));
    const field: SealedField = Object.keys(tok).length > 0 ? { enc: leaf.value.enc, mask: leaf.value.mask, tok } : { enc: leaf.value.enc, mask: leaf.value.mask };
    leaf.parent[leaf.key] = field;
  }
  // The tokens changed, so the record needs a new integrity tag (the old one was checked by open).
  return sealer.retag(schema, copy as SealedRecord<S>);
}
