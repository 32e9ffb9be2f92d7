/**
 * Attack (R13d H1): a compound index over fields of two key classes takes its token key from the
 * first protected source's class only. After `shred('identity', month)` the live contact-index key
 * still confirms ID-number candidates against the stored name+ID token. Such an index is refused
 * where a schema is defined: the builder and schema files.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, defineSchema, s, schemaFromJson, SchemaFileError, schemaToJson, waybill } from '../../src/index.js';

/** The SchemaFileError a schema file is refused with. */
function fileError(doc: unknown): SchemaFileError {
  try {
    schemaFromJson(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(SchemaFileError);
    return e as SchemaFileError;
  }
  throw new Error('schema file accepted');
}

const shape = { id: s.string(), createdAt: s.date(), name: s.name(), idNo: s.idNumber(), alias: s.name(), district: s.string() };

describe('compound index over two key classes (R13d H1)', () => {
  it('defineSchema refuses name (contact) + ID number (identity) with a stable code', () => {
    let err: unknown;
    try {
      defineSchema('people', 1, shape, { recordId: 'id', indexes: { 'name+id': { fields: ['name', 'idNo'], bits: 32 } } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('INDEX_KEY_CLASSES');
    expect((err as Error).message).toMatch(/index name\+id: .*contact, identity/);
  });

  it('refuses it also when the classes are set explicitly', () => {
    const sh = { id: s.string(), createdAt: s.date(), a: s.text({ keyClass: 'note' }), b: s.text({ keyClass: 'vip' }) };
    expect(() => defineSchema('x', 1, sh, { recordId: 'id', indexes: { ab: { fields: ['a', 'b'], bits: 32 } } })).toThrow(/key classes note, vip/);
  });

  it('accepts a compound index within one class, plus plain string sources', () => {
    const schema = defineSchema('people', 1, shape, { recordId: 'id', indexes: { names: { fields: ['name', 'alias', 'district'], bits: 32 } } });
    expect(schema.indexes.names.parts).toHaveLength(3);
    // The built-in waybill schema (mobile last 4 + district) passes, also through its schema file.
    expect(Object.values(waybill.indexes).some((i) => i.parts.length > 1)).toBe(true);
    expect(schemaFromJson(schemaToJson(waybill)).indexes).toEqual(waybill.indexes);
  });

  it('a schema file with such an index is refused, naming the index', () => {
    const doc = {
      name: 'people',
      version: 1,
      recordId: 'id',
      fields: { id: 'string', createdAt: 'date', name: 'name', idNo: 'idNumber' },
      indexes: { 'name+id': { fields: ['name', 'idNo'], bits: 32 } },
    };
    expect(fileError(doc)).toMatchObject({ path: 'indexes.name+id', reason: expect.stringMatching(/key classes contact, identity/) });
  });
});

/**
 * Attack (R13d M1): a field of key class `contact-index` would be sealed under the same key-store row
 * (`contact-index/<month>/<g>`) as the month's contact search tokens: one key both AEAD data key and
 * HMAC root, and `shred('contact', month)` would destroy that field too. The suffix is reserved.
 */
describe('field key classes ending in -index (R13d M1)', () => {
  it('the builder refuses them, naming the reserved suffix', () => {
    expect(() => s.text({ keyClass: 'contact-index' })).toThrow(ConfigError);
    expect(() => s.mobile({ keyClass: 'vip-index' })).toThrow(/"-index" is reserved/);
    expect(s.text({ keyClass: 'index-notes' }).def).toMatchObject({ keyClass: 'index-notes' });
  });

  it('schema files refuse them at fields.<path>.keyClass', () => {
    const doc = { name: 'memo', version: 1, recordId: 'id', fields: { id: 'string', createdAt: 'date', memo: { kind: 'text', keyClass: 'contact-index' } } };
    expect(fileError(doc)).toMatchObject({ path: 'fields.memo.keyClass', reason: expect.stringMatching(/"-index" is reserved/) });
  });
});
