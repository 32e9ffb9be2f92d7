/**
 * A Prisma client extension (Prisma 7, any driver adapter) that keeps a schema's records sealed in
 * a JSON column plus one column per search index, so application code keeps using the Prisma API:
 *
 * - writes (`create`, `createMany`, `update`, `upsert`, and nested writes through the relations the
 *   options name) seal the plain record given for the column and fill the token columns;
 * - every read returns the record's masked view (tag checked first); token columns never leave;
 * - `where: { receiverMobile: '13812345678' }` on a token column is a search: an access through the
 *   sealer's guard (the request from `seal.as(request, fn)` or `options.access()`), its candidates
 *   confirmed inside the library and the counts audited;
 * - plaintext only through `seal.open(...)`, an ordinary audited `sealer.open`;
 * - queries that would need plaintext in the database (`contains`, ranges, ordering on a protected
 *   column, writes filtered by a token column) are refused with `UnsupportedQueryError`.
 *
 * Nothing here imports Prisma: an extension is a function of the client, written against the
 * documented `$extends` surface (query components, `$allModels`, `$allOperations`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AccessDeniedError, ConfigError, UnsupportedQueryError } from '../errors.js';
import type { Schema, SealedRecord } from '../schema/schema.js';
import { isPlainObject } from '../schema/walk.js';
import type { AccessRequest, OpenResult, SearchRequest, Sealer } from '../seal/sealer.js';
import { createFinder } from '../search/find.js';
import { confirmRows, maskRow, pageOf, sealRow, type SealedModel } from './rows.js';

export type { SealedModel } from './rows.js';

export interface PrismaSealOptions {
  readonly sealer: Sealer;
  /** Sealed models by Prisma model name (as in schema.prisma, e.g. `Waybill`). */
  readonly models: Readonly<Record<string, SealedModel<any>>>;
  /**
   * Relation fields through which nested writes and `include` reach a sealed model:
   * `{ Customer: { waybills: 'Waybill' } }`. A nested write through a relation not named here
   * would store the plain record as given, so it is refused when it carries the sealed column.
   */
  readonly relations?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The search request of the current caller when no `seal.as(...)` is active (e.g. from your request context). */
  readonly access?: () => SearchRequest | undefined;
}

export interface PrismaSeal {
  /** Pass to `prisma.$extends(...)`; the client keeps its types. */
  readonly extension: <C>(client: C) => C;
  /** Runs `fn` with `request` as the search request of every token filter inside it. */
  as<T>(request: SearchRequest, fn: () => Promise<T>): Promise<T>;
  /** Opens one stored record (found by a unique `where`) through the sealer's guard: audited, rate-limited. */
  open<S extends Schema>(client: unknown, model: string, where: Record<string, unknown>, access: AccessRequest): Promise<OpenResult<S>>;
}

type Args = Record<string, unknown>;
type Query = (args: Args) => Promise<unknown>;
interface Op {
  model?: string;
  operation: string;
  args: Args;
  query: Query;
}

const READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy']);
const SEARCHES = new Set(['findFirst', 'findFirstOrThrow', 'findMany', 'count']);

export function prismaSeal(options: PrismaSealOptions): PrismaSeal {
  const { sealer, models } = options;
  const relations = options.relations ?? {};
  for (const [name, m] of Object.entries(models)) {
    if (!isPlainObject(m) || typeof m.column !== 'string' || !m.schema) throw new ConfigError(`prisma model ${name}: needs a schema and a column`);
    for (const index of Object.values(m.tokens ?? {})) if (!(index in m.schema.indexes)) throw new ConfigError(`prisma model ${name}: "${String(index)}" is not an index of schema ${m.schema.name}`);
  }
  for (const [parent, fields] of Object.entries(relations)) {
    for (const [field, child] of Object.entries(fields)) if (!models[child]) throw new ConfigError(`prisma relation ${parent}.${field} names ${child}, which is not a sealed model`);
  }
  const current = new AsyncLocalStorage<SearchRequest>();
  const raw = new AsyncLocalStorage<true>();

  const sealData = (model: string, data: unknown): Promise<unknown> =>
    perRow(data, async (out) => {
      const m = models[model];
      if (m) await sealRow(sealer, model, m, out);
      for (const [field, value] of Object.entries(out)) {
        const child = relations[model]?.[field];
        if (child && isPlainObject(value)) out[field] = await nestedWrite(child, value);
      }
    });

  const nestedWrite = async (child: string, ops: Args): Promise<Args> => {
    const out: Args = { ...ops };
    const each = async (v: unknown, f: (x: Args) => Promise<Args>) => (Array.isArray(v) ? Promise.all(v.map((x) => f(x as Args))) : f(v as Args));
    if (out['create'] !== undefined) out['create'] = await sealData(child, out['create']);
    if (out['createMany'] !== undefined) out['createMany'] = { ...(out['createMany'] as Args), data: await sealData(child, (out['createMany'] as Args)['data']) };
    if (out['connectOrCreate'] !== undefined) out['connectOrCreate'] = await each(out['connectOrCreate'], async (x) => ({ ...x, create: await sealData(child, x['create']) }));
    if (out['upsert'] !== undefined) out['upsert'] = await each(out['upsert'], async (x) => ({ ...x, create: await sealData(child, x['create']), update: await sealData(child, x['update']) }));
    if (out['update'] !== undefined) out['update'] = await each(out['update'], async (x) => ('data' in x && 'where' in x ? { ...x, data: await sealData(child, x['data']) } : ((await sealData(child, x)) as Args)));
    // An update replaces the whole sealed record (its fields are bound to each other); many rows cannot share one.
    if (out['updateMany'] !== undefined) await each(out['updateMany'], async (x) => (refuseColumn(child, x['data'], 'updateMany'), x));
    return out;
  };

  const refuseColumn = (model: string, data: unknown, operation: string): void => {
    const m = models[model];
    if (m && isPlainObject(data) && (m.column in data || Object.keys(m.tokens ?? {}).some((c) => c in data))) {
      throw new UnsupportedQueryError(model, m.column, `${operation} cannot seal one record for many rows: update each row by its id`);
    }
  };

  /** Checks a `where` for filters that would need plaintext; returns the one token filter, if any. */
  const searchIn = (model: string, where: unknown, top = true): { column: string; value: string } | undefined => {
    const m = models[model]!;
    if (!isPlainObject(where)) return undefined;
    let found: { column: string; value: string } | undefined;
    for (const [key, cond] of Object.entries(where)) {
      if (key === 'AND' || key === 'OR' || key === 'NOT') {
        for (const sub of Array.isArray(cond) ? cond : [cond]) {
          if (searchIn(model, sub, false)) throw new UnsupportedQueryError(model, key, 'a token filter must be a top-level equality');
        }
      } else if (key === m.column) {
        throw new UnsupportedQueryError(model, key, 'the sealed column cannot be filtered (filter a token column by a plain value)');
      } else if (m.tokens && key in m.tokens) {
        const value = typeof cond === 'string' ? cond : isPlainObject(cond) && Object.keys(cond).length === 1 && typeof cond['equals'] === 'string' ? cond['equals'] : undefined;
        if (value === undefined) throw new UnsupportedQueryError(model, key, 'only equality with a plain value can be served by tokens (no contains, ranges, in, not, mode)');
        if (!top) throw new UnsupportedQueryError(model, key, 'a token filter must be a top-level equality');
        if (found) throw new UnsupportedQueryError(model, key, 'one token filter per query');
        found = { column: key, value };
      }
    }
    return found;
  };

  const refuseOrdering = (model: string, args: Args): void => {
    const m = models[model]!;
    const protectedCols = new Set([m.column, ...Object.keys(m.tokens ?? {})]);
    const named = (v: unknown): string[] => (Array.isArray(v) ? v.flatMap(named) : isPlainObject(v) ? Object.keys(v) : typeof v === 'string' ? [v] : []);
    for (const key of ['orderBy', 'cursor', 'distinct', 'by']) {
      const bad = named(args[key]).find((c) => protectedCols.has(c));
      if (bad) throw new UnsupportedQueryError(model, bad, `${key} on a protected column would need plaintext or leak token order`);
    }
  };

  /** Masked rows: the sealed column replaced by its masks after its tag checks, token columns removed. */
  const present = (model: string, value: unknown): Promise<unknown> =>
    perRow(value, async (out) => {
      const m = models[model];
      if (m) await maskRow(sealer, m, out);
      for (const [field, child] of Object.entries(relations[model] ?? {})) if (field in out) out[field] = await present(child, out[field]);
    });

  const searchRequest = (model: string, column: string): SearchRequest => {
    const request = current.getStore() ?? options.access?.();
    if (!request) throw new AccessDeniedError('no_search_request', `filtering ${model}.${column} is a search: run it inside seal.as(request, …) or configure options.access`);
    return request;
  };

  const search = async (client: Record<string, { findMany(a: Args): Promise<unknown[]> }>, op: Op & { model: string }, found: { column: string; value: string }): Promise<unknown> => {
    const m = models[op.model]!;
    if (!SEARCHES.has(op.operation)) throw new UnsupportedQueryError(op.model, found.column, `${op.operation} cannot be filtered by a token column: find the rows first, then write them by id`);
    if (op.args['cursor'] !== undefined) throw new UnsupportedQueryError(op.model, found.column, 'cursor pagination with a token filter');
    const finder = await createFinder(sealer, m.schema, m.tokens![found.column]!, found.value, searchRequest(op.model, found.column));
    const { take, skip, select, ...rest } = op.args as Args & { take?: number; skip?: number; select?: Args };
    const where = { ...(rest['where'] as Args), [found.column]: { in: [...finder.tokens] } };
    const wantsColumn = !isPlainObject(select) || select[m.column] === true;
    const args: Args = { ...rest, where, ...(isPlainObject(select) && op.operation !== 'count' ? { select: { ...select, [m.column]: true } } : {}) };
    if (op.operation === 'count') Object.assign(args, { select: { [m.column]: true } });
    const confirmed = await confirmRows(finder, m.column, (await client[lowerFirst(op.model)]!.findMany(args)) as Args[]);
    if (op.operation === 'count') return confirmed.length;
    const page = pageOf(confirmed, skip, take);
    if (!wantsColumn) for (const row of page) delete row[m.column];
    if (op.operation === 'findMany') return present(op.model, page);
    if (page[0] === undefined && op.operation === 'findFirstOrThrow') throw new AccessDeniedError('not_found', `no ${op.model} matches`);
    return page[0] === undefined ? null : present(op.model, page[0]);
  };

  const extension = <C>(client: C): C =>
    (client as { $extends(e: unknown): C }).$extends({
      name: 'waybill-seal',
      query: {
        $allModels: {
          async $allOperations(op: Op) {
            const model = op.model;
            if (model === undefined || raw.getStore()) return op.query(op.args);
            const sealedModel = models[model];
            const related = relations[model];
            if (!sealedModel && !related) return op.query(op.args);
            const args: Args = { ...op.args };
            if (sealedModel) {
              refuseOrdering(model, args);
              const found = searchIn(model, args['where']);
              if (found) return search(client as never, { ...op, model, args }, found);
              if (op.operation === 'updateMany' || op.operation === 'updateManyAndReturn') refuseColumn(model, args['data'], op.operation);
            }
            if (op.operation === 'upsert') {
              args['create'] = await sealData(model, args['create']);
              args['update'] = await sealData(model, args['update']);
            } else if ('data' in args && !op.operation.startsWith('updateMany')) {
              args['data'] = await sealData(model, args['data']);
            }
            const result = await op.query(args);
            // count/aggregate/groupBy results hold no sealed column; createMany/updateMany return counts.
            return READS.has(op.operation) || isPlainObject(result) || Array.isArray(result) ? present(model, result) : result;
          },
        },
      },
    });

  return {
    extension,
    // Awaited inside the context: a PrismaPromise runs its query only when awaited.
    as: (request, fn) => current.run(request, async () => await fn()),
    async open<S extends Schema>(client: unknown, model: string, where: Record<string, unknown>, access: AccessRequest) {
      const m = models[model];
      if (!m) throw new ConfigError(`prisma model ${model} is not a sealed model`);
      const delegate = (client as Record<string, { findUniqueOrThrow(a: Args): Promise<Args> }>)[lowerFirst(model)];
      if (!delegate) throw new ConfigError(`the Prisma client has no model ${model}`);
      const row = await raw.run(true, async () => await delegate.findUniqueOrThrow({ where, select: { [m.column]: true } }));
      return sealer.open(m.schema as S, row[m.column] as SealedRecord<S>, access) as Promise<OpenResult<S>>;
    },
  };
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

/** `f` applied to a copy of each row object of `value` (one row or an array of rows); other values as they are. */
async function perRow(value: unknown, f: (row: Args) => Promise<void>): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => perRow(v, f)));
  if (!isPlainObject(value)) return value;
  const out: Args = { ...value };
  await f(out);
  return out;
}
