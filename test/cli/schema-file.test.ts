/**
 * Schema files (`schemaFromJson`, `--schema FILE.json`) and their JSON Schema for editors: the JSON
 * form of the built-in waybill schema is the same schema (same AAD: ciphertexts of one open with the
 * other), bad files are refused with the JSON path and a reason, and the editor schema agrees.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  FIELD_KINDS,
  INDEX_TRANSFORMS,
  KEY_CLASSES,
  LocalKeyring,
  MemoryKeyStore,
  createSealer,
  generateLocalKeyMaterial,
  PROTECTED_KINDS,
  SchemaFileError,
  defineSchema,
  mask,
  parseSchemaJson,
  s,
  schemaFromJson,
  schemaToJson,
  waybill,
} from '../../src/index.js';
import { freshSealer, sampleWaybill } from '../helpers.js';
import { validate } from './json-schema-lite.js';

const read = (p: string) => JSON.parse(readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8'));
const waybillJson = read('schemas/waybill.json');
const editorSchema = read('schemas/waybill-seal-schema.json');
const parcelJson = read('test/fixtures/parcel.schema.json');
/** A schema as data: functions (the builder's `optional()`) dropped. */
const data = (v: unknown) => JSON.parse(JSON.stringify(v));
const access = { principal: 't', purpose: 't', reveal: 'plain' } as const;

describe('schemaFromJson', () => {
  it('the JSON form of the built-in waybill schema builds the same Schema as defineSchema', () => {
    const fromJson = schemaFromJson(waybillJson);
    expect(data(fromJson)).toEqual(data(waybill));
    expect(fromJson.indexes).toEqual(waybill.indexes);
    expect(data(schemaToJson(waybill))).toEqual(data({ ...waybillJson, $schema: undefined, description: undefined }));
  });

  it('seals and opens identically: ciphertexts sealed with one schema open with the other', async () => {
    const fromJson = schemaFromJson(waybillJson);
    const { sealer } = freshSealer();
    const input = sampleWaybill();
    const a = await sealer.seal(waybill, input);
    const b = await sealer.seal(fromJson, input);
    expect((await sealer.open(fromJson, a, access)).record).toEqual(input);
    expect((await sealer.open(waybill, b as never, access)).record).toEqual(input);
    expect(mask(fromJson, a, 'label')).toEqual(mask(waybill, a, 'label'));
    // Same search tokens (same index definitions, so the same derived keys).
    expect((b as unknown as typeof a).receiver.mobile?.tok).toEqual(a.receiver.mobile?.tok);
  });

  it('builds a custom schema: shorthand kinds, optional, key classes, mask options, nested objects and arrays, indexes, CSV columns', async () => {
    const { schema, columns } = parseSchemaJson(parcelJson);
    const same = defineSchema(
      'parcel',
      2,
      {
        id: s.string(),
        createdAt: s.date(),
        weightKg: s.number(),
        fragile: s.boolean().optional(),
        who: s.name({ mask: { nameStyle: 'keepFirstLast' } }),
        phone: s.mobile({ mask: { mobileLabel: 'first3last2' } }).optional(),
        addr: s.object({ city: s.string(), district: s.string(), detail: s.addressDetail() }),
        tags: s.array(s.string()),
        lines: s.array(s.object({ sku: s.string(), serial: s.text({ keyClass: 'serials' }) })).optional(),
        note: s.text().optional(),
      },
      {
        recordId: 'id',
        indexes: {
          phone: { field: 'phone', bits: 19 },
          'phone:last4+district': { fields: [{ field: 'phone', transform: 'phone-last4' }, 'addr.district'], bits: 16 },
        },
        signed: ['addr', 'weightKg'],
      },
    );
    expect(data(schema)).toEqual(data(same));
    expect(columns).toEqual({ 收件人: 'who', 手机: 'phone', 内部编号: '-' });
    // A custom key class needs its own KEK (waybill-seal keygen --schema parcel.json adds it).
    const keyring = new LocalKeyring(generateLocalKeyMaterial([...KEY_CLASSES, 'serials']));
    const sealer = createSealer({ keyring, keyStore: new MemoryKeyStore(), guard: 'allow-all' });
    const input = {
      id: 'P-1',
      createdAt: '2025-05-02',
      weightKg: 1.25,
      fragile: true,
      who: '王小四',
      phone: '13812345678',
      addr: { city: '杭州市', district: '西湖区', detail: '文一西路969号5-2-301' },
      tags: ['a', 'b'],
      lines: [{ sku: 'S1', serial: 'SN-0001' }],
    };
    const sealed = await sealer.seal(schema, input as never);
    expect(mask(schema, sealed, 'label')).toMatchObject({ who: '王*四', phone: '138******78' });
    expect((await sealer.open(same, sealed as never, access)).record).toEqual(input);
    expect(JSON.stringify(sealed)).toContain('serials/2025-05/1');
  });

  it('schemaToJson inverts schemaFromJson', () => {
    for (const doc of [waybillJson, parcelJson]) {
      const schema = schemaFromJson(doc);
      expect(data(schemaFromJson(schemaToJson(schema)))).toEqual(data(schema));
    }
    const custom = defineSchema('x', 1, { id: s.string(), n: s.name({ mask: { custom: { short: () => '*' } } }) }, { recordId: 'id' });
    expect(() => schemaToJson(custom)).toThrow(ConfigError);
  });

  // [what, mutate the parcel document, JSON path, reason pattern, does the editor schema catch it too]
  const bad: [string, (d: any) => void, string, RegExp, boolean][] = [
    ['not an object', (d) => ((d.fields = []), d), 'fields', /must be an object/, true],
    ['unknown top-level member', (d) => (d.feilds = {}), 'feilds', /unknown member/, true],
    ['bad name', (d) => (d.name = '1x'), 'name', /letters/, true],
    ['version 0', (d) => (d.version = 0), 'version', /positive integer/, true],
    ['unknown kind', (d) => (d.fields.phone = 'mobil?'), 'fields.phone', /unknown kind "mobil"/, true],
    ['unknown kind (object form)', (d) => (d.fields.who = { kind: 'nam' }), 'fields.who.kind', /unknown kind "nam"/, true],
    ['unknown field member', (d) => (d.fields.who.optinal = true), 'fields.who.optinal', /unknown member/, true],
    ['key class on a plain field', (d) => (d.fields.id = { kind: 'string', keyClass: 'contact' }), 'fields.id.keyClass', /only protected kinds/, true],
    ['bad key class', (d) => (d.fields.who.keyClass = 'Contact!'), 'fields.who.keyClass', /lower-case/, true],
    ['mask option for another kind', (d) => (d.fields.who.mask = { mobileLabel: 'last4' }), 'fields.who.mask.mobileLabel', /applies to kind mobile/, true],
    ['bad mask value', (d) => (d.fields.who.mask = { nameStyle: 'initials' }), 'fields.who.mask.nameStyle', /must be one of/, true],
    ['custom mask', (d) => (d.fields.who.mask = { custom: {} }), 'fields.who.mask.custom', /TypeScript API/, true],
    ['object without fields', (d) => (d.fields.addr = { kind: 'object' }), 'fields.addr.fields', /required/, true],
    ['array without of', (d) => (d.fields.tags = { kind: 'array' }), 'fields.tags.of', /required/, true],
    ['array of protected', (d) => (d.fields.tags = { kind: 'array', of: 'mobile' }), 'fields.tags.of', /plain kinds or objects/, true],
    ['array of optional', (d) => (d.fields.tags = { kind: 'array', of: 'string?' }), 'fields.tags.of', /cannot be optional/, true],
    ['shorthand object', (d) => (d.fields.addr = 'object'), 'fields.addr', /needs the object form/, true],
    ['empty object', (d) => (d.fields.addr.fields = {}), 'fields.addr.fields', /at least one field/, true],
    ['bad field name', (d) => (d.fields['a-b'] = 'string'), 'fields.a-b', /field names/, true],
    ['recordId not a string field', (d) => (d.recordId = 'weightKg'), 'recordId', /kind "string"/, false],
    ['recordId missing', (d) => delete d.recordId, 'recordId', /required/, true],
    ['scopeFrom not a date', (d) => (d.scopeFrom = 'id'), 'scopeFrom', /kind "date"/, false],
    ['createdAt not a date', (d) => (d.fields.createdAt = 'string'), 'fields.createdAt', /scopeFrom/, false],
    ['index on a missing field', (d) => (d.indexes.phone.field = 'mobile'), 'indexes.phone', /"mobile" is not a protected or plain string field/, false],
    ['index bits', (d) => (d.indexes.phone.bits = 0), 'indexes.phone', /bits must be an integer/, true],
    ['index with field and fields', (d) => (d.indexes.phone.fields = ['phone']), 'indexes.phone', /not both/, true],
    ['index transform', (d) => (d.indexes.phone.transform = 'email'), 'indexes.phone', /transform "email" does not apply/, false],
    ['signed path', (d) => (d.signed = ['addr', 'nope']), 'signed.1', /"nope" names no field/, false],
    ['csv column path', (d) => (d.csv.columns.x = 'a..b'), 'csv.columns.x', /field path/, true],
    ['csv column twice', (d) => (d.csv.columns.y = 'who'), 'csv.columns.y', /already the column/, false],
  ];

  it.each(bad)('refuses %s with the JSON path and a reason', (_what, mutate, path, reason, editorToo) => {
    const doc = structuredClone(parcelJson);
    mutate(doc);
    let error: unknown;
    try {
      parseSchemaJson(doc);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaFileError);
    expect((error as SchemaFileError).path).toBe(path);
    expect((error as SchemaFileError).reason).toMatch(reason);
    expect((error as SchemaFileError).message).toContain(`schema file: ${path}: `);
    if (editorToo) expect(validate(editorSchema, doc)).not.toEqual([]);
  });
});

describe('the JSON Schema for editors (schemas/waybill-seal-schema.json)', () => {
  it('accepts the schema files the loader accepts', () => {
    expect(validate(editorSchema, waybillJson)).toEqual([]);
    expect(validate(editorSchema, parcelJson)).toEqual([]);
    expect(validate(editorSchema, schemaToJson(waybill))).toEqual([]);
  });

  it('lists the same kinds and transforms as the library', () => {
    expect(editorSchema.$defs.fieldObject.properties.kind.enum).toEqual([...FIELD_KINDS]);
    expect(editorSchema.$defs.protectedKind.enum).toEqual([...PROTECTED_KINDS]);
    expect(editorSchema.$defs.transform.enum).toEqual([...INDEX_TRANSFORMS]);
    const shorthand = new RegExp(editorSchema.$defs.field.oneOf[0].pattern);
    for (const k of FIELD_KINDS) expect(shorthand.test(k)).toBe(k !== 'object' && k !== 'array');
  });
});
