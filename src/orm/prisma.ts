/**
 * A Prisma client extension (Prisma 7, any driver adapter) that keeps a schema's records sealed in
 * a JSON column plus one column per search index, so application code keeps using the Prisma API.
 *
 * The sealed column and the token columns are recognised by name, at every depth of every query
 * of every model (nested writes, includes, relation filters, the fluent API), so their names must be
 * unique in the Prisma schema (checked here across the sealed models; a `ws_` prefix helps):
 *
 * - writes seal the plain record found for the sealed column wherever it is written (`data`,
 *   `create`, `update`, nested writes through any relation) and fill the token columns;
 * - results: every sealed record found anywhere is tag-checked and replaced by its masked view; token
 *   columns are removed at every depth;
 * - `where: { receiverMobile: '13812345678' }` at the top level of a sealed model's read is a search:
 *   an access through the sealer's guard (the request from `seal.as(request, fn)` or
 *   `options.access()`), candidates confirmed inside the library, counts audited;
 * - anywhere else a token or sealed column may only be selected (`select`/`omit`): filters (nested,
 *   relation filters), ordering, `distinct`, `groupBy`, aggregates and writes of token columns are
 *   refused with `UnsupportedQueryError`;
 * - plaintext only through `seal.open(...)`, an ordinary audited `sealer.open`.
 *
 * Nothing here imports Prisma: an extension is a function of the client, written against the
 * documented `$extends` surface (query components, `$allModels`, `$allOperations`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AccessDeniedError, ConfigError, UnsupportedQueryError, ValidationError, WaybillSealError } from '../errors.js';
import type { ProtectedPath } from '../schema/paths.js';
import type { Schema, SealedRecord } from '../schema/schema.js';
import { isPlainObject } from '../schema/walk.js';
import type { AccessRequest, OpenResult, SearchRequest, Sealer } from '../seal/sealer.js';
import { createFinder } from '../search/find.js';
import { checkRowBinding, confirmRows, maskRow, pageOf, sealRow, type SealedModel } from './rows.js';

export type { SealedModel } from './rows.js';

export interface PrismaSealOptions {
  readonly sealer: Sealer;
  /** Sealed models by Prisma model name (as in schema.prisma, e.g. `Waybill`). */
  readonly models: Readonly<Record<string, SealedModel<any>>>;
  /** The search request of the current caller when no `seal.as(...)` is active (e.g. from your request context). */
  readonly access?: () => SearchRequest | undefined;
}

export interface PrismaSeal {
  /** Pass to `prisma.$extends(...)`; the client keeps its types. */
  readonly extension: <C>(client: C) => C;
  /** Runs `fn` with `request` as the search request of every token filter inside it. */
  as<T>(request: SearchRequest, fn: () => Promise<T>): Promise<T>;
  /** Opens one stored record (found by a unique `where`) through the sealer's guard: audited, rate-limited. */
  open<S extends Schema>(client: unknown, model: string, where: Record<string, unknown>, access: AccessRequest<ProtectedPath<S>>): Promise<OpenResult<S>>;
}

/**
 * A query the database refused after the extension put sealed records or tokens into it. Prisma's
 * own message would print them (masks, tokens); this names the model, operation and Prisma's error
 * code only.
 */
export class OrmQueryError extends WaybillSealError {
  readonly model: string;
  readonly operation: string;
  readonly prismaCode: string | undefined;
  constructor(model: string, operation: string, prismaCode: string | undefined) {
    super('ORM_QUERY_FAILED', `${model}.${operation} failed in the database${prismaCode ? ` (${prismaCode})` : ''}; the message is withheld because the query held sealed data`);
    this.model = model;
    this.operation = operation;
    this.prismaCode = prismaCode;
  }
}

type Args = Record<string, unknown>;
interface Op {
  model?: string;
  operation: string;
  args: Args;
  query: (args: Args) => Promise<unknown>;
}
type Named = readonly [model: string, config: SealedModel];

const SEARCHES = new Set(['findFirst', 'findFirstOrThrow', 'findMany', 'count']);
/** Keys whose value is a row to write (or, for `update` of a to-many relation, `{ where, data }`). */
const PAYLOAD_KEYS = new Set(['data', 'create', 'update']);
/** Keys under which a column name may appear with `true`/`false`: choosing what comes back. */
const CHOICE_KEYS = new Set(['select', 'omit']);
/** Keys whose values are lists of column names. */
const NAME_LIST_KEYS = new Set(['distinct', 'by']);

export function prismaSeal(options: PrismaSealOptions): PrismaSeal {
  const { sealer, models } = options;
  // Column name → its sealed model; each name stands for one thing wherever it appears.
  const sealedColumns = new Map<string, Named>();
  const tokenColumns = new Map<string, Named>();
  for (const [name, m] of Object.entries(models)) {
    if (!isPlainObject(m) || typeof m.column !== 'string' || !m.schema) throw new ConfigError(`prisma model ${name}: needs a schema and a column`);
    for (const col of [m.column, ...Object.keys(m.tokens ?? {})]) {
      if (sealedColumns.has(col) || tokenColumns.has(col)) throw new ConfigError(`prisma column name "${col}" is used twice: sealed and token column names must be unique`);
      (col === m.column ? sealedColumns : tokenColumns).set(col, [name, m]);
    }
    for (const index of Object.values(m.tokens ?? {})) if (!(index in m.schema.indexes)) throw new ConfigError(`prisma model ${name}: "${String(index)}" is not an index of schema ${m.schema.name}`);
  }
  const current = new AsyncLocalStorage<SearchRequest>();
  const raw = new AsyncLocalStorage<true>();

  /** Seals every row payload under `data`/`create`/`update` at any depth (not inside `where`); marks what it sealed. */
  const sealWrites = async (value: unknown, sealed: Set<object>, payload: boolean, operation: string): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map((v) => sealWrites(v, sealed, payload, operation)));
    if (!isPlainObject(value)) return value;
    const out: Args = { ...value };
    if (payload) {
      for (const [col, [model, m]] of sealedColumns) {
        if (!(col in out) || typeof out[col] === 'boolean') continue;
        if (operation.startsWith('updateMany')) throw new UnsupportedQueryError(model, col, 'one sealed record cannot be written to many rows: update each row by its id');
        await sealRow(sealer, model, m, out);
        const record = out[col] as Args;
        if (m.recordIdColumn && m.recordIdColumn in out && out[m.recordIdColumn] !== record[m.schema.recordId]) {
          throw new ValidationError(m.recordIdColumn, 'record_id_mismatch');
        }
        sealed.add(record);
        sealed.add(out);
      }
    }
    for (const [key, v] of Object.entries(out)) {
      if (key === 'where' || (payload && sealedColumns.has(key))) continue;
      const nested = key === 'updateMany' ? 'updateMany' : operation;
      out[key] = await sealWrites(v, sealed, PAYLOAD_KEYS.has(key), nested);
    }
    return out;
  };

  /** Refuses every use of a sealed or token column that is not choosing it for the result, or a record just sealed. */
  const checkArgs = (value: unknown, sealed: Set<object>, parent: string): void => {
    if (Array.isArray(value)) {
      for (const v of value) {
        if (NAME_LIST_KEYS.has(parent) && typeof v === 'string') refuseName(v, parent);
        else checkArgs(v, sealed, parent);
      }
      return;
    }
    if (!isPlainObject(value)) {
      if (NAME_LIST_KEYS.has(parent) && typeof value === 'string') refuseName(value, parent);
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      const named = sealedColumns.get(key) ?? tokenColumns.get(key);
      if (named) {
        const chosen = typeof v === 'boolean' && CHOICE_KEYS.has(parent);
        const written = sealedColumns.has(key) && isPlainObject(v) && sealed.has(v);
        const tokenWritten = tokenColumns.has(key) && (typeof v === 'string' || v === null) && PAYLOAD_KEYS.has(parent);
        if (!chosen && !written && !(tokenWritten && sealed.has(value))) refuseName(key, parent);
        continue;
      }
      checkArgs(v, sealed, key);
    }
  };

  const refuseName = (name: string, where: string): void => {
    const named = sealedColumns.get(name) ?? tokenColumns.get(name);
    if (named) throw new UnsupportedQueryError(named[0], name, `cannot be used in ${where || 'a query'} (only selected, or filtered by equality at the top level of a ${named[0]} read): it would need plaintext or expose tokens`);
  };

  /** Every sealed record in a result, at any depth, tag-checked, bound to its row and masked; token columns removed at every depth. */
  const present = async (value: unknown): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map(present));
    if (!isPlainObject(value)) return value;
    const out: Args = { ...value };
    for (const [key, v] of Object.entries(out)) {
      const named = sealedColumns.get(key);
      if (tokenColumns.has(key)) delete out[key];
      else if (named && isPlainObject(v)) await maskRow(sealer, named[1], out);
      else out[key] = await present(v);
    }
    return out;
  };

  /** The top-level token equality of a sealed model's `where`, removed from it (undefined: none). */
  const searchOf = (model: string, args: Args): { column: string; value: string; rest: Args } | undefined => {
    const where = args['where'];
    if (!isPlainObject(where)) return undefined;
    const m = models[model]!;
    const found = Object.keys(where).filter((k) => m.tokens !== undefined && k in m.tokens);
    if (found.length === 0) return undefined;
    const column = found[0]!;
    if (found.length > 1) throw new UnsupportedQueryError(model, found[1]!, 'one token filter per query');
    const cond = where[column];
    const value = typeof cond === 'string' ? cond : isPlainObject(cond) && Object.keys(cond).length === 1 && typeof cond['equals'] === 'string' ? cond['equals'] : undefined;
    if (value === undefined) throw new UnsupportedQueryError(model, column, 'only equality with a plain value can be served by tokens (no contains, ranges, in, not, mode)');
    const { [column]: _taken, ...rest } = where;
    return { column, value, rest };
  };

  const searchRequest = (model: string, column: string): SearchRequest => {
    const request = current.getStore() ?? options.access?.();
    if (!request) throw new AccessDeniedError('no_search_request', `filtering ${model}.${column} is a search: run it inside seal.as(request, …) or configure options.access`);
    return request;
  };

  const search = async (client: Record<string, { findMany(a: Args): Promise<unknown[]> }>, model: string, operation: string, args: Args, found: { column: string; value: string; rest: Args }): Promise<unknown> => {
    const m = models[model]!;
    if (!SEARCHES.has(operation)) throw new UnsupportedQueryError(model, found.column, `${operation} cannot be filtered by a token column: find the rows first, then write them by id`);
    if (args['cursor'] !== undefined) throw new UnsupportedQueryError(model, found.column, 'cursor pagination with a token filter');
    const { take, skip, select, ...rest } = args as Args & { take?: number; skip?: number; select?: unknown };
    checkArgs({ ...rest, where: found.rest, ...(select === undefined ? {} : { select }) }, new Set(), '');
    const finder = await createFinder(sealer, m.schema, m.tokens![found.column]!, found.value, searchRequest(model, found.column));
    const wantsColumn = operation !== 'count' && (!isPlainObject(select) || select[m.column] === true);
    const query: Args = { ...rest, where: { ...found.rest, [found.column]: { in: [...finder.tokens] } } };
    const idColumn = m.recordIdColumn ? { [m.recordIdColumn]: true } : {};
    if (operation === 'count') query['select'] = { [m.column]: true, ...idColumn };
    else if (isPlainObject(select)) query['select'] = { ...select, [m.column]: true, ...idColumn };
    let rows: Args[];
    try {
      rows = (await client[lowerFirst(model)]!.findMany(query)) as Args[];
    } catch (e) {
      await finder.done();
      throw withheld(e, model, operation);
    }
    const confirmed = await confirmRows(finder, m, rows);
    if (operation === 'count') return confirmed.length;
    const page = pageOf(confirmed, skip, take);
    if (!wantsColumn) for (const row of page) delete row[m.column];
    if (operation === 'findMany') return present(page);
    if (page[0] === undefined && operation === 'findFirstOrThrow') throw new AccessDeniedError('not_found', `no ${model} matches`);
    return page[0] === undefined ? null : present(page[0]);
  };

  const extension = <C>(client: C): C =>
    (client as { $extends(e: unknown): C }).$extends({
      name: 'waybill-seal',
      query: {
        $allModels: {
          async $allOperations(op: Op) {
            if (op.model === undefined || raw.getStore()) return op.query(op.args);
            const found = models[op.model] ? searchOf(op.model, op.args) : undefined;
            if (found) return search(client as never, op.model, op.operation, op.args, found);
            // What this query sealed (short-lived: one query's rows).
            const sealed = new Set<object>();
            const args = (await sealWrites(op.args, sealed, false, op.operation)) as Args;
            checkArgs(args, sealed, '');
            let result: unknown;
            try {
              result = await op.query(args);
            } catch (e) {
              // Prisma's message would print the sealed records and tokens this query carries.
              throw sealed.size > 0 || models[op.model] ? withheld(e, op.model, op.operation) : e;
            }
            return present(result);
          },
        },
      },
    });

  return {
    extension,
    // Awaited inside the context: a PrismaPromise runs its query only when awaited.
    as: (request, fn) => current.run(request, async () => await fn()),
    async open<S extends Schema>(client: unknown, model: string, where: Record<string, unknown>, access: AccessRequest<ProtectedPath<S>>) {
      const m = models[model];
      if (!m) throw new ConfigError(`prisma model ${model} is not a sealed model`);
      const delegate = (client as Record<string, { findUniqueOrThrow(a: Args): Promise<Args> }>)[lowerFirst(model)];
      if (!delegate) throw new ConfigError(`the Prisma client has no model ${model}`);
      const select = { [m.column]: true, ...(m.recordIdColumn ? { [m.recordIdColumn]: true } : {}) };
      const row = await raw.run(true, async () => await delegate.findUniqueOrThrow({ where, select }));
      const record = row[m.column] as Args;
      checkRowBinding(m, row);
      return sealer.open(m.schema as S, record as SealedRecord<S>, access) as Promise<OpenResult<S>>;
    },
  };
}

/** Our own errors pass; a database or Prisma error loses its message (it may print what the query held). */
function withheld(e: unknown, model: string, operation: string): unknown {
  if (e instanceof WaybillSealError) return e;
  const code = isPlainObject(e) || e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return new OrmQueryError(model, operation, typeof code === 'string' ? code : undefined);
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
