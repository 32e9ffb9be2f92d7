/**
 * TypeORM (1.x) integration: a schema's records sealed in a JSON column plus one column per search
 * index, behind two pieces that application code uses instead of plain TypeORM calls:
 *
 * - `seal.subscriber`: an entity subscriber that seals the plain record in the sealed column on
 *   every insert and update (repository `insert`/`save`/`update`, the entity manager, cascades) and
 *   fills the token columns. Already sealed records pass (after their tag verifies); a masked view
 *   read back and saved is refused, so masks never overwrite the stored record.
 * - `seal.repository(repo, model)`: reads that return masked views (tag checked first, token columns
 *   removed); an equality filter on a token column is a search, an access through the sealer's guard
 *   (`seal.as(request, fn)` or `options.access`) with candidates confirmed inside the library before
 *   `take`/`skip`; `open(where, access)` is the only way to plaintext.
 *
 * Filters that would need plaintext in the database (`Like`, `ILike`, ranges, `In`, `Raw`, `Not` on a
 * protected column, several token filters, ordering on a protected column) are refused with
 * `UnsupportedQueryError`. Query builders and raw SQL are not intercepted: they see sealed records
 * and tokens only, and cannot compute a token (that needs the index key).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { EventSubscriber, FindOperator, In, type EntityMetadata, type EntitySubscriberInterface, type FindManyOptions, type FindOptionsWhere, type InsertEvent, type ObjectLiteral, type Repository, type UpdateEvent } from 'typeorm';
import { AccessDeniedError, ConfigError, UnsupportedQueryError, ValidationError } from '../errors.js';
import type { ProtectedPath } from '../schema/paths.js';
import type { Schema, SealedRecord } from '../schema/schema.js';
import { isPlainObject } from '../schema/walk.js';
import type { AccessRequest, OpenResult, SearchRequest, Sealer } from '../seal/sealer.js';
import { createFinder } from '../search/find.js';
import { checkRowBinding, confirmRows, fillTokens, maskRow, pageOf, refuseTokenColumns, sealRow, type Row, type SealedModel } from './rows.js';

export type { SealedModel } from './rows.js';

export interface TypeormSealOptions {
  readonly sealer: Sealer;
  /** Sealed entities by entity name (the class name, or the `name` of an `EntitySchema`). */
  readonly entities: Readonly<Record<string, SealedModel<any>>>;
  /** The search request of the current caller when no `seal.as(...)` is active (e.g. from your request context). */
  readonly access?: () => SearchRequest | undefined;
}

/** The reads of a sealed entity's repository. Writes go through the repository itself (the subscriber seals them). */
export interface SealedRepository<E extends ObjectLiteral> {
  find(options?: FindManyOptions<E>): Promise<Row[]>;
  findBy(where: FindOptionsWhere<E>): Promise<Row[]>;
  findOne(options: FindManyOptions<E>): Promise<Row | null>;
  findOneBy(where: FindOptionsWhere<E>): Promise<Row | null>;
  count(options?: FindManyOptions<E>): Promise<number>;
  countBy(where: FindOptionsWhere<E>): Promise<number>;
  /** Opens the record of one row (found by `where`, e.g. its primary key) through the sealer's guard: audited, rate-limited. */
  open<S extends Schema>(where: FindOptionsWhere<E>, access: AccessRequest<ProtectedPath<S>>): Promise<OpenResult<S>>;
}

export interface TypeormSeal {
  /** The sealing subscriber class: `new DataSource({ …, subscribers: [seal.subscriber] })`. */
  readonly subscriber: new () => EntitySubscriberInterface<ObjectLiteral>;
  /** The masked, search-aware reads of `repo` (whose entity must be one of `options.entities`). */
  repository<E extends ObjectLiteral>(repo: Repository<E>): SealedRepository<E>;
  /** Runs `fn` with `request` as the search request of every token filter inside it. */
  as<T>(request: SearchRequest, fn: () => Promise<T>): Promise<T>;
}

export function typeormSeal(options: TypeormSealOptions): TypeormSeal {
  const { sealer, entities } = options;
  for (const [name, m] of Object.entries(entities)) {
    if (!isPlainObject(m) || typeof m.column !== 'string' || !m.schema) throw new ConfigError(`typeorm entity ${name}: needs a schema and a column`);
    for (const index of Object.values(m.tokens ?? {})) if (!(index in m.schema.indexes)) throw new ConfigError(`typeorm entity ${name}: "${String(index)}" is not an index of schema ${m.schema.name}`);
  }
  const current = new AsyncLocalStorage<SearchRequest>();
  /** The masked views this integration returned: saving one back is refused. */
  const maskedViews = new WeakSet<object>();

  /** Seals the sealed column of a row about to be written; an already sealed record passes once its tag verifies. */
  const beforeWrite = async (name: string, row: Row | undefined, update?: { databaseEntity: Row | undefined }): Promise<void> => {
    const m = entities[name];
    if (!m || !row) return;
    // Without the record in the write there is nothing to derive tokens from: a token set by hand
    // (to hide a row from search or aim it at another value) is refused.
    if (!(m.column in row)) return refuseTokenColumns(name, m, row);
    const value = row[m.column];
    if (typeof value === 'object' && value !== null && maskedViews.has(value)) {
      throw new UnsupportedQueryError(name, m.column, 'a masked view cannot be saved: update other columns by id, or write a new plain record');
    }
    // Token columns are derived from the record whatever the caller set; a sealed record (from an
    // earlier read through TypeORM itself) is kept when it verifies.
    for (const col of Object.keys(m.tokens ?? {})) delete row[col];
    if (value !== null && value !== undefined && (await sealer.verify(m.schema, value as SealedRecord<Schema>)).ok) fillTokens(m, value as SealedRecord<Schema>, row);
    else await sealRow(sealer, name, m, row);
    if (!m.recordIdColumn) return;
    // A record bound to another row id (sealed for one waybill, written under another) is refused. An
    // update only shows its set, not its criteria: without the record id in the set (or the row a save
    // loaded) it could copy one record over every row the criteria match.
    const rowId = m.recordIdColumn in row ? row[m.recordIdColumn] : update?.databaseEntity?.[m.recordIdColumn];
    if (rowId === undefined && update) {
      throw new UnsupportedQueryError(name, m.column, `an update of the sealed record must set ${m.recordIdColumn} to the record's id too (repo.update(id, { ${m.recordIdColumn}, ${m.column} })) or save the entity`);
    }
    if (rowId !== undefined && rowId !== (row[m.column] as Row)[m.schema.recordId]) throw new ValidationError(m.recordIdColumn, 'record_id_mismatch');
  };

  // TypeORM builds subscribers from classes registered by its decorator: one that closes over these options.
  class SealingSubscriber implements EntitySubscriberInterface<ObjectLiteral> {
    beforeInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
      return beforeWrite(event.metadata.name, event.entity as Row);
    }
    beforeUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
      return beforeWrite(event.metadata.name, event.entity as Row | undefined, { databaseEntity: event.databaseEntity as Row | undefined });
    }
  }

  const searchRequest = (name: string, column: string): SearchRequest => {
    const request = current.getStore() ?? options.access?.();
    if (!request) throw new AccessDeniedError('no_search_request', `filtering ${name}.${column} is a search: run it inside seal.as(request, …) or configure options.access`);
    return request;
  };

  /**
   * Refuses `where`/`order` keys, through relations at any depth, on a protected column of a related
   * sealed entity: a filter there would be a token lookup without the guard, an order would leak
   * token order. (The top level of the queried entity is checked by `searchIn`/`refuseOrdering`.)
   */
  const refuseRelated = (clause: unknown, meta: EntityMetadata, what: string, top: boolean): void => {
    if (Array.isArray(clause)) return clause.forEach((branch) => refuseRelated(branch, meta, what, top));
    if (!isPlainObject(clause)) return;
    const model = entities[meta.name];
    for (const [key, value] of Object.entries(clause)) {
      if (!top && model && (key === model.column || key in (model.tokens ?? {}))) {
        throw new UnsupportedQueryError(meta.name, key, `${what} on a protected column of a related sealed entity is refused (search the sealed entity itself)`);
      }
      const relation = meta.relations.find((r) => r.propertyName === key);
      if (relation) refuseRelated(value, relation.inverseEntityMetadata, what, false);
    }
  };

  /** Masks (tag and binding checked, tokens removed) every loaded related row of a sealed entity, eager relations included. */
  const maskRelated = async (row: Row, meta: EntityMetadata, seen: Set<object>): Promise<void> => {
    for (const relation of meta.relations) {
      const value = row[relation.propertyName];
      for (const child of Array.isArray(value) ? value : [value]) {
        if (typeof child !== 'object' || child === null || child instanceof Promise || seen.has(child)) continue;
        seen.add(child);
        const model = entities[relation.inverseEntityMetadata.name];
        if (model) {
          const masked = await maskRow(sealer, model, child as Row);
          if (typeof masked === 'object' && masked !== null) maskedViews.add(masked);
        }
        await maskRelated(child as Row, relation.inverseEntityMetadata, seen);
      }
    }
  };

  function repository<E extends ObjectLiteral>(repo: Repository<E>): SealedRepository<E> {
    const name = repo.metadata.name;
    const m = entities[name];
    if (!m) throw new ConfigError(`typeorm entity ${name} is not a sealed entity`);
    const tokens = m.tokens ?? {};
    const protectedCols = new Set([m.column, ...Object.keys(tokens)]);

    /** Checks a `where` for filters that would need plaintext; returns the one token filter, if any. */
    const searchIn = (where: unknown): { column: string; value: string } | undefined => {
      refuseRelated(where, repo.metadata, 'a filter', true);
      if (Array.isArray(where)) {
        for (const branch of where) if (isPlainObject(branch) && Object.keys(branch).some((k) => protectedCols.has(k))) throw new UnsupportedQueryError(name, 'where', 'a token filter cannot be one branch of an OR: one top-level equality per query');
        return undefined;
      }
      if (!isPlainObject(where)) return undefined;
      let found: { column: string; value: string } | undefined;
      for (const [key, cond] of Object.entries(where)) {
        if (key === m.column) throw new UnsupportedQueryError(name, key, 'the sealed column cannot be filtered (filter a token column by a plain value)');
        if (!(key in tokens)) continue;
        const value = typeof cond === 'string' ? cond : cond instanceof FindOperator && cond.type === 'equal' && typeof cond.value === 'string' ? cond.value : undefined;
        if (value === undefined) throw new UnsupportedQueryError(name, key, 'only equality with a plain value can be served by tokens (no Like, ILike, ranges, In, Not, Raw)');
        if (found) throw new UnsupportedQueryError(name, key, 'one token filter per query');
        found = { column: key, value };
      }
      return found;
    };

    const refuseOrdering = (o: FindManyOptions<E>): void => {
      refuseRelated(o.order, repo.metadata, 'ordering', true);
      const bad = Object.keys(isPlainObject(o.order) ? o.order : {}).find((c) => protectedCols.has(c));
      if (bad) throw new UnsupportedQueryError(name, bad, 'ordering on a protected column would need plaintext or leak token order');
    };

    const present = async (row: Row): Promise<Row> => {
      const out = { ...row };
      const masked = await maskRow(sealer, m, out);
      if (typeof masked === 'object' && masked !== null) maskedViews.add(masked);
      await maskRelated(out, repo.metadata, new Set([row, out]));
      return out;
    };

    /** Runs a find: a plain one masked, or a token search confirmed and then paged. */
    const run = async (o: FindManyOptions<E> = {}): Promise<Row[]> => {
      refuseOrdering(o);
      const found = searchIn(o.where);
      if (!found) return Promise.all((await repo.find(o)).map((r) => present(r as Row)));
      const finder = await createFinder(sealer, m.schema, tokens[found.column]!, found.value, searchRequest(name, found.column));
      const { take, skip, select, ...rest } = o;
      // The sealed column is needed to confirm; a select that left it out gets it back out afterwards.
      const selected = Array.isArray(select) ? (select as string[]) : isPlainObject(select) ? Object.keys(select).filter((k) => (select as Row)[k]) : undefined;
      const args: FindManyOptions<E> = {
        ...rest,
        where: { ...(o.where as Row), [found.column]: In([...finder.tokens]) } as FindOptionsWhere<E>,
        ...(selected ? { select: Object.fromEntries([...selected, m.column, ...(m.recordIdColumn ? [m.recordIdColumn] : [])].map((k) => [k, true])) as never } : {}),
      };
      const confirmed = await confirmRows(finder, m, (await repo.find(args)) as Row[]);
      const page = await Promise.all(pageOf(confirmed, skip, take).map(present));
      for (const row of page) for (const k of [m.column, m.recordIdColumn]) if (selected && k !== undefined && !selected.includes(k)) delete row[k];
      return page;
    };

    const countOf = async (o: FindManyOptions<E> = {}): Promise<number> => {
      const found = searchIn(o.where);
      if (!found) return repo.count(o);
      return (await run({ ...o, select: { [m.column]: true } as never })).length;
    };

    return {
      find: run,
      findBy: (where) => run({ where }),
      findOne: async (o) => (await run({ ...o, take: 1 }))[0] ?? null,
      findOneBy: async (where) => (await run({ where, take: 1 }))[0] ?? null,
      count: countOf,
      countBy: (where) => countOf({ where }),
      async open<S extends Schema>(where: FindOptionsWhere<E>, access: AccessRequest<ProtectedPath<S>>): Promise<OpenResult<S>> {
        if (searchIn(where)) throw new UnsupportedQueryError(name, 'where', 'open a row by its key, not by a token filter (search first)');
        const rows = await repo.find({ where, take: 2 });
        if (rows.length !== 1) throw new AccessDeniedError('not_found', `open needs exactly one ${name} row`);
        checkRowBinding(m, rows[0] as Row);
        return sealer.open(m.schema as S, (rows[0] as Row)[m.column] as SealedRecord<S>, access) as Promise<OpenResult<S>>;
      },
    };
  }

  EventSubscriber()(SealingSubscriber);

  return {
    subscriber: SealingSubscriber,
    repository,
    // Awaited inside the context so that the whole query runs with the request.
    as: (request, fn) => current.run(request, async () => await fn()),
  };
}
