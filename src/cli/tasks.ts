/**
 * What each bulk command does to one record, built from a structured-cloneable spec so a worker
 * thread builds the same task (its own sealer from the same key file) as the main thread.
 */
import { createAccessGuard, recordInScope, type ScopeCondition } from '../access/guard.js';
import type { AuditSink } from '../access/audit.js';
import type { QuotaStore } from '../access/quota.js';
import { parsePolicy } from '../access/policy.js';
import { waybillPolicy } from '../access/waybill-policy.js';
import type { SuiteName } from '../crypto/aead.js';
import { AccessDeniedError, AuthenticationError, ConfigError, IntegrityError, KeyError, ShreddedError } from '../errors.js';
import type { Withheld } from '../access/audit.js';
import { loadNativeCrypto } from '../crypto/backend-load.js';
import { wipe } from '../crypto/bytes.js';
import { contextOf } from '../keys/data-keys.js';
import { createVerifier, type RecordVerifier } from '../integrity/verify.js';
import { integrityKeysFromFile, integrityOf, loadKeyFile, loadVerifyKeys, type LoadedKeys } from '../node/key-file-io.js';
import { presetFor } from '../presets/index.js';
import { inspect } from '../seal/inspect.js';
import { mask } from '../seal/mask-view.js';
import { createSealer, type Sealer, type SealerOptions } from '../seal/sealer.js';
import type { Schema } from '../schema/schema.js';
import { TAG_FIELD, walkRecord } from '../schema/walk.js';
import type { IndexHash } from '../schema/indexes.js';
import { finderFor } from '../search/find.js';
import { PASS, type Task, type TaskStats } from './chunks.js';
import { OPENED_FIELD } from './codec.js';

export interface SealSpec {
  readonly command: 'seal';
  readonly keys: string;
  readonly suite: SuiteName;
  readonly indexHash?: IndexHash;
  readonly lenient: boolean;
}

export interface OpenSpec {
  readonly command: 'open';
  readonly keys: string;
  readonly principal: string;
  readonly purpose: string;
  readonly fields?: readonly string[];
  readonly context: Readonly<Record<string, string>>;
  /** Policy file JSON (already checked), or undefined for the built-in waybill policy. */
  readonly policyJson?: unknown;
  readonly policyPath?: string;
  readonly budget: number;
}

export interface MaskSpec {
  readonly command: 'mask';
  readonly profile: string;
  /** Verify-only key file: records whose signed tag does not verify are rejected, not masked. */
  readonly verifyKey?: string;
}

export interface FindSpec {
  readonly command: 'find';
  readonly keys: string;
  readonly index: string;
  readonly values: readonly string[];
  readonly country?: string;
  readonly candidates: boolean;
  readonly indexHash?: IndexHash;
  readonly principal: string;
  readonly purpose: string;
  readonly context: Readonly<Record<string, string>>;
  readonly policyJson?: unknown;
  readonly policyPath?: string;
  /** The query, authorised and audited once by the main thread: its tokens and scope. */
  readonly grant: { readonly tokens: readonly string[]; readonly scope: readonly ScopeCondition[] };
}

export interface InspectSpec {
  readonly command: 'inspect';
}

export interface ConvertSpec {
  readonly command: 'convert';
}

export interface VerifySpec {
  readonly command: 'verify';
  /** A key file (full, or integrity-only), or … */
  readonly keys?: string;
  /** … a verify-only key file (public keys). */
  readonly verifyKey?: string;
}

export type TaskSpec = SealSpec | OpenSpec | MaskSpec | FindSpec | InspectSpec | ConvertSpec | VerifySpec;

/** Where a task's side effects go: the main thread's audit log and quota file, or proxies to them. */
export interface TaskEnv {
  readonly keys?: LoadedKeys;
  readonly audit?: AuditSink;
  readonly quotaStore?: QuotaStore;
}

/** The policy a command applies: the policy file's, or the built-in waybill policy. */
export const policyFrom = (policyJson: unknown, policyPath: string | undefined) =>
  policyJson === undefined ? waybillPolicy : parsePolicy(policyJson, policyPath ?? 'policy');

/** The verifier of `verify`: public keys from --verify-key, or the tag keys of a --keys file (its own algorithm). */
async function verifierFor(spec: VerifySpec): Promise<RecordVerifier> {
  await loadNativeCrypto();
  if (spec.verifyKey !== undefined) return createVerifier(await loadVerifyKeys(spec.verifyKey));
  const { keys, alg, accept } = await integrityKeysFromFile(spec.keys!);
  return createVerifier(keys, { alg, ...(accept.length > 0 ? { accept } : {}) });
}

/** A sealer on a key file with its suite's preset (index hash overridable), as `seal` and `find` use it. */
function presetSealer(keys: LoadedKeys, indexHash: IndexHash | undefined, options: Partial<SealerOptions>): Sealer {
  return createSealer({ ...presetFor(keys.file.suite), ...(indexHash ? { indexHash } : {}), integrity: integrityOf(keys.file), ...options, keyring: keys.keyring, keyStore: keys.keyStore });
}

/**
 * `{ …record, $opened: { fields: [paths opened], withheld: { path: reason } } }`. Reasons: the policy's
 * (`field_not_granted`, `out_of_scope`, `unknown_purpose`, `missing_ticket` …), `quota_exceeded`,
 * `export_budget_spent`, `shredded`, `key_not_held`, and `not_requested` (left out by `--fields`).
 */
function withOpened(out: unknown, schema: Schema, sealed: unknown, opened: readonly string[], withheld: readonly Withheld[], otherwise: string): unknown {
  const reasons: Record<string, string> = {};
  for (const w of withheld) reasons[w.path] = w.reason;
  for (const leaf of walkRecord(schema.shape, sealed, 'sealed').leaves) {
    if (!opened.includes(leaf.path) && reasons[leaf.path] === undefined) reasons[leaf.path] = otherwise;
  }
  return { ...(out as Record<string, unknown>), [OPENED_FIELD]: { fields: [...opened], withheld: reasons } };
}

/** Data key ids listed in the message of a refused key file. */
const SHOWN_IDS = 5;

/**
 * The wrong `--keys` file is a configuration error, not a bad record. Before any record is opened,
 * the data keys that the input's first chunk (one chunk, so memory stays bounded) was sealed under
 * are looked up: one the key file holds and can unwrap (its KEK held, the wrap authenticates), or a
 * shredded key's tombstone, means the file fits and each record is judged on its own. When the file
 * holds none of them (no such key, or only keys whose KEK it lacks: `no_kek`), the run stops (exit 1)
 * before anything is opened, audited or written. Unwrapping a data key reads no record field.
 */
async function refuseForeignKeyFile(keys: LoadedKeys, keysPath: string, records: readonly unknown[]): Promise<void> {
  const ids = new Set<string>();
  for (const record of records) {
    try {
      for (const f of inspect(record)) ids.add(f.dataKeyId);
    } catch {
      // not a sealed record: the task rejects its line
    }
  }
  if (ids.size === 0) return;
  const missing: string[] = [];
  const kekless: string[] = [];
  for (const id of ids) {
    const stored = await keys.keyStore.get(id);
    if (!stored) {
      missing.push(id);
      continue;
    }
    if (stored.shreddedAt !== undefined) return;
    try {
      wipe(await keys.keyring.unwrap({ kekId: stored.kekId, wrapped: stored.wrapped }, contextOf(stored)));
      return;
    } catch (e) {
      if (!(e instanceof KeyError || e instanceof AuthenticationError)) throw e;
      kekless.push(`${id} under ${stored.kekId}`);
    }
  }
  const list = (a: readonly string[]) => `${a.slice(0, SHOWN_IDS).join(', ')}${a.length > SHOWN_IDS ? `, … ${a.length - SHOWN_IDS} more` : ''}`;
  const why = [
    ...(missing.length > 0 ? [`holds none of the data keys it was sealed under (${list(missing)})`] : []),
    ...(kekless.length > 0 ? [`holds data keys it cannot unwrap: no KEK for them (${list(kekless)})`] : []),
  ];
  throw new ConfigError(`key file ${keysPath} cannot open this input: it ${why.join(' and ')}. Is it the key file these records were sealed with?`);
}

export async function createTask(spec: TaskSpec, schema: Schema, env: TaskEnv = {}): Promise<Task> {
  switch (spec.command) {
    case 'seal': {
      const keys = env.keys ?? (await loadKeyFile(spec.keys));
      const sealer = presetSealer(keys, spec.indexHash, { suite: spec.suite, lenient: spec.lenient });
      return {
        decode: 'plain',
        handle: (record) => sealer.seal(schema, record as never),
        async finish() {
          sealer.close();
          return {};
        },
      };
    }
    case 'open': {
      const keys = env.keys ?? (await loadKeyFile(spec.keys));
      if (!env.audit || !env.quotaStore) throw new Error('open needs an audit sink and a quota store');
      const policy = policyFrom(spec.policyJson, spec.policyPath);
      const approval = spec.context['approval'];
      const guard = createAccessGuard({
        policy,
        audit: env.audit,
        quotaStore: env.quotaStore,
        // The grant is what the operator states; its budget is counted across runs in the quota state.
        grants: (id) => (id === approval ? { id, budget: spec.budget } : undefined),
      });
      const sealer = createSealer({ keyring: keys.keyring, keyStore: keys.keyStore, guard, integrity: integrityOf(keys.file) });
      const access = { principal: spec.principal, purpose: spec.purpose, context: spec.context, reveal: 'plain', ...(spec.fields ? { fields: spec.fields } : {}) } as const;
      const stats: TaskStats = {};
      return {
        decode: 'sealed',
        checkFirst: (records) => refuseForeignKeyFile(keys, spec.keys, records),
        async handle(record) {
          try {
            const r = await sealer.open(schema, record as never, access);
            return withOpened(r.record, schema, record, r.opened, r.withheld, spec.fields ? 'not_requested' : 'field_not_granted');
          } catch (e) {
            // A record whose every key is shredded comes out masked too: its masks survive shredding.
            const reason = e instanceof AccessDeniedError ? e.reason : e instanceof ShreddedError ? 'shredded' : undefined;
            if (reason === undefined) throw e;
            stats[`denied:${reason}`] = ((stats[`denied:${reason}`] as number | undefined) ?? 0) + 1;
            if ((reason === 'quota_exceeded' || reason === 'export_budget_spent') && stats['spent'] === undefined) {
              stats['spent'] = reason;
              stats['spentMessage'] = (e as Error).message;
            }
            return withOpened(mask(schema, record as never, 'screen'), schema, record, [], [], reason);
          }
        },
        async finish() {
          sealer.close();
          return stats;
        },
      };
    }
    case 'mask': {
      if (spec.verifyKey === undefined) {
        return {
          decode: 'sealed',
          handle: async (record) => mask(schema, record as never, spec.profile),
          finish: async () => ({}),
        };
      }
      await loadNativeCrypto();
      const verifier = createVerifier(await loadVerifyKeys(spec.verifyKey));
      let failed = 0;
      return {
        decode: 'sealed',
        async handle(record) {
          try {
            return await verifier.mask(schema, record as never, spec.profile);
          } catch (e) {
            if (e instanceof IntegrityError) failed++;
            throw e;
          }
        },
        async finish() {
          verifier.close();
          return { failed };
        },
      };
    }
    case 'find': {
      const keys = env.keys ?? (await loadKeyFile(spec.keys));
      if (!env.audit || !env.quotaStore) throw new Error('find needs an audit sink and a quota store');
      // Confirming a candidate is an open under the request's purpose: audited, charged to the open quota.
      const guard = createAccessGuard({ policy: policyFrom(spec.policyJson, spec.policyPath), audit: env.audit, quotaStore: env.quotaStore });
      const sealer = presetSealer(keys, spec.indexHash, { guard });
      const request = { principal: spec.principal, purpose: spec.purpose, context: spec.context, ...(spec.country ? { country: spec.country } : {}) };
      const scope = spec.grant.scope;
      const grant = { tokens: spec.grant.tokens, scope, inScope: (r: unknown) => recordInScope(scope, r) };
      const stats: TaskStats = {};
      try {
        const finder = finderFor(sealer, schema, spec.index, spec.values.length === 1 ? spec.values[0]! : spec.values, request, grant);
        return {
          decode: 'sealed',
          checkFirst: (records) => refuseForeignKeyFile(keys, spec.keys, records),
          async handle(record) {
            walkRecord(schema.shape, record, 'sealed');
            if (spec.candidates) return finder.isCandidate(record as never) ? PASS : undefined;
            try {
              return (await finder.matches(record as never)) ? PASS : undefined;
            } catch (e) {
              if (!(e instanceof AccessDeniedError)) throw e;
              if (e.reason !== 'quota_exceeded') {
                stats['unverifiable'] = ((stats['unverifiable'] as number | undefined) ?? 0) + 1;
              } else if (stats['spent'] === undefined) {
                stats['spent'] = e.reason;
                stats['spentMessage'] = e.message;
              }
              return undefined;
            }
          },
          async finish() {
            sealer.close();
            const { candidates, matches, unverifiable, outOfScope } = finder.stats;
            return { ...stats, candidates, matches, unverifiable: unverifiable + ((stats['unverifiable'] as number | undefined) ?? 0), outOfScope };
          },
        };
      } catch (e) {
        sealer.close();
        throw e;
      }
    }
    case 'inspect':
      return {
        decode: 'schemaless',
        handle: async (record, line) => ({ line, fields: inspect(record) }),
        csvHeader: ['line', 'path', 'version', 'suite', 'dataKeyId'],
        csvRows: (out) => {
          const { line, fields } = out as { line: number; fields: ReturnType<typeof inspect> };
          return fields.map((f) => [String(line), f.path, f.version, f.suite, f.dataKeyId]);
        },
        finish: async () => ({}),
      };
    case 'convert':
      return {
        decode: 'auto',
        async handle(record) {
          // Checked against the schema (sealed or plain protected fields), then written as given.
          const { copy, leaves } = walkRecord(schema.shape, record, 'mixed');
          for (const leaf of leaves) leaf.parent[leaf.key] = leaf.value;
          const tag = (record as Record<string, unknown>)[TAG_FIELD];
          if (tag !== undefined) copy[TAG_FIELD] = tag;
          return copy;
        },
        finish: async () => ({}),
      };
    case 'verify': {
      const verifier = await verifierFor(spec);
      let failed = 0;
      return {
        // CSV cells of protected fields hold sealed JSON; the record is checked as it stands.
        decode: 'sealed',
        async handle(record, line) {
          const verdict = await verifier.verify(schema, record as never);
          if (!verdict.ok) failed++;
          return { line, ...verdict };
        },
        csvHeader: ['line', 'ok', 'path', 'reason'],
        csvRows: (out) => {
          const v = out as { line: number; ok: boolean; path?: string; reason?: string };
          return [[String(v.line), String(v.ok), v.path, v.reason]];
        },
        async finish() {
          verifier.close();
          return { failed };
        },
      };
    }
  }
}
