/**
 * The t2 record tag (docs/FORMAT.md §11) against a database writer: everything it could swap,
 * move, add, drop or retype between records fails `verify`, and no two different records share a
 * message (every item is length-framed and every unit names its path).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageWriter, writeMessage } from '../../src/integrity/message.js';
import { createSealer, defineSchema, s, waybill, type SealedRecord } from '../../src/index.js';
import { freshSealer, sampleWaybill } from '../helpers.js';
import { referenceCanonicalJson } from './reference-canonical.js';

type W = typeof waybill;
type Rec = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const access = { principal: 't', purpose: 't', reveal: 'plain' } as const;

async function twoRecords() {
  const { sealer } = freshSealer();
  const a = await sealer.seal(waybill, { ...sampleWaybill(), items: [{ name: '书籍', quantity: 2 }, { name: '衣服', quantity: 1 }] });
  const b = await sealer.seal(waybill, {
    ...sampleWaybill(),
    waybillNo: 'SF9999999999999',
    receiver: { ...sampleWaybill().receiver, name: '李四', mobile: '13900001111', address: { ...sampleWaybill().receiver.address, district: '余杭区' } },
  });
  expect((a as Rec)['$tag']).toMatch(/^t2\./);
  return { sealer, a: a as Rec, b: b as Rec };
}

const edit = (r: Rec, fn: (c: Rec) => void): SealedRecord<W> => {
  const c = structuredClone(r);
  fn(c);
  return c as SealedRecord<W>;
};

describe('t2 tags: what a database writer can do fails verify', () => {
  it.each<[string, (a: Rec, b: Rec) => void, string]>([
    ['a mask from another record', (a, b) => (a.receiver.name.mask = b.receiver.name.mask), 'receiver.name'],
    ['a search token from another record', (a, b) => (a.receiver.mobile.tok = b.receiver.mobile.tok), 'receiver.mobile'],
    ['a signed plain field from another record', (a, b) => (a.receiver.address.district = b.receiver.address.district), 'receiver.address.district'],
    ['a ciphertext from another record', (a, b) => (a.receiver.mobile.enc = b.receiver.mobile.enc), 'receiver.mobile'],
    ['a whole sealed field from another record', (a, b) => (a.receiver.name = b.receiver.name), 'receiver.name'],
  ])('swapping %s', async (_, swap, path) => {
    const { sealer, a, b } = await twoRecords();
    const bad = edit(a, (c) => swap(c, b));
    expect(await sealer.verify(waybill, bad)).toEqual({ ok: false, path, reason: 'altered' });
    await expect(sealer.open(waybill, bad, access)).rejects.toMatchObject({ code: expect.stringMatching(/^(INTEGRITY|AUTHENTICATION)$/) });
  });

  it('reordering array items, or moving a sealed field to another path', async () => {
    const { sealer, a } = await twoRecords();
    expect(await sealer.verify(waybill, edit(a, (c) => c.items.reverse()))).toEqual({ ok: false, path: 'items.0.name', reason: 'altered' });
    // The mobile's sealed field moved to the landline (absent before): one unit gone, one added.
    const moved = edit(a, (c) => {
      c.receiver.landline = c.receiver.mobile;
      delete c.receiver.mobile;
    });
    expect((await sealer.verify(waybill, moved)).ok).toBe(false);
    // Sender and receiver names exchanged: same units, other paths.
    const crossed = edit(a, (c) => ([c.sender.name, c.receiver.name] = [c.receiver.name, c.sender.name]));
    expect(await sealer.verify(waybill, crossed)).toEqual({ ok: false, path: 'sender.name', reason: 'altered' });
  });

  it('adding or removing an optional field, an optional object, an array item', async () => {
    const { sealer, a, b } = await twoRecords();
    expect(await sealer.verify(waybill, edit(a, (c) => delete c.remark))).toEqual({ ok: false, path: '', reason: 'removed' });
    expect(await sealer.verify(waybill, edit(a, (c) => delete c.receiver.address.town))).toEqual({ ok: false, path: '', reason: 'removed' });
    expect(await sealer.verify(waybill, edit(a, (c) => (c.routing = {})))).toEqual({ ok: false, path: 'routing', reason: 'added' });
    expect(await sealer.verify(waybill, edit(a, (c) => (c.sender.landline = b.receiver.mobile)))).toEqual({ ok: false, path: 'sender.landline', reason: 'added' });
    expect((await sealer.verify(waybill, edit(a, (c) => c.items.pop()))).ok).toBe(false);
    expect((await sealer.verify(waybill, edit(a, (c) => c.items.push(c.items[0])))).ok).toBe(false);
  });

  it('changing the type of a plain value, or adding a member the schema does not know', async () => {
    const { sealer, a } = await twoRecords();
    // sealer.verify walks the record first (as createVerifier does); the messages differ too (collision tests below).
    expect(await sealer.verify(waybill, edit(a, (c) => (c.weightGrams = String(c.weightGrams))))).toEqual({ ok: false, path: 'weightGrams', reason: 'not_a_record' });
    expect(await sealer.verify(waybill, edit(a, (c) => (c.receiver.address.extra = 'x')))).toEqual({ ok: false, path: 'receiver.address.extra', reason: 'not_a_record' });
    expect(await sealer.verify(waybill, edit(a, (c) => (c.receiver.name.extra = 'x')))).toEqual({ ok: false, path: 'receiver.name', reason: 'not_a_record' });
    expect(await sealer.verify(waybill, edit(a, (c) => (c.receiver.name.mask.label = 5)))).toEqual({ ok: false, path: 'receiver.name', reason: 'not_a_record' });
    expect(await sealer.verify(waybill, edit(a, (c) => (c.receiver.name.mask.label = '\ud800')))).toEqual({ ok: false, path: '', reason: 'not_a_record' });
  });

  it('a record checked against another schema version, or replayed under another id', async () => {
    const { sealer, a } = await twoRecords();
    const v2 = defineSchema('waybill', 2, waybill.shape, { recordId: 'waybillNo', signed: [...waybill.signed], indexes: {} });
    expect((await sealer.verify(v2 as unknown as W, a as SealedRecord<W>)).ok).toBe(false);
    expect((await sealer.verify(waybill, edit(a, (c) => (c.waybillNo = 'SF0000000000001')))).ok).toBe(false);
  });

  it('forged locators on an unchanged record fail: once the MAC holds, every bit of $tag must match (R16 F2)', async () => {
    const { sealer, a } = await twoRecords();
    const [head, locators] = (a.$tag as string).split(/\.(?=[^.]*$)/) as [string, string];
    const flipped = Buffer.from(locators, 'base64url');
    flipped[flipped.length - 1]! ^= 1;
    // The same bytes spelt with non-zero leftover bits (when the section leaves any): not canonical.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const loose = locators.length % 4 === 0 ? `${locators}AA` : locators.slice(0, -1) + last[last.indexOf(locators.at(-1)!) ^ 1];
    for (const forged of ['', 'AAAAAA', `${locators}AAAAAA`, locators.slice(0, -6), flipped.toString('base64url'), loose]) {
      expect(forged).not.toBe(locators);
      expect(await sealer.verify(waybill, edit(a, (c) => (c.$tag = `${head}.${forged}`)))).toEqual({ ok: false, path: '$tag', reason: 'altered' });
      await expect(sealer.open(waybill, edit(a, (c) => (c.$tag = `${head}.${forged}`)), access)).rejects.toMatchObject({ code: 'INTEGRITY' });
    }
    // So one record has one valid $tag under a key: the unchanged one still verifies.
    expect(await sealer.verify(waybill, a)).toEqual({ ok: true });
  });

  it('locators after a MAC failure: forged ones cannot pass a changed record, only misname it', async () => {
    const { sealer, a } = await twoRecords();
    const [head] = (a.$tag as string).split(/\.(?=[^.]*$)/);
    const changed = edit(a, (c) => {
      c.weightGrams = 1;
      c.$tag = `${head}.A`;
    });
    expect(await sealer.verify(waybill, changed)).toEqual({ ok: false, path: '$tag', reason: 'malformed_tag' });
    const misnamed = edit(a, (c) => {
      c.weightGrams = 1;
      c.$tag = `${head}.AAAAAA`;
    });
    expect(await sealer.verify(waybill, misnamed)).toMatchObject({ ok: false });
    // A writer who recomputes the locators of the changed record and perturbs one names an innocent
    // path: the path is an unauthenticated hint (FORMAT §11), the verdict still fails.
    const w = new MessageWriter();
    const changedMobile = edit(a, (c) => (c.receiver.mobile.mask.label = '139****0000'));
    expect(writeMessage(w, waybill, changedMobile as Rec)).toBeUndefined();
    const forged = Buffer.from(w.locators());
    forged[w.paths.indexOf('sender.name') * 4]! ^= 1;
    const misdirected = edit(changedMobile, (c) => (c.$tag = `${head}.${forged.toString('base64url')}`));
    expect(await sealer.verify(waybill, misdirected)).toEqual({ ok: false, path: 'sender.name', reason: 'altered' });
  });

  it('jsonb-style member reordering (a database rewriting objects) still verifies', async () => {
    const { sealer, a } = await twoRecords();
    const reordered = edit(a, (c) => {
      const tok = c.receiver.mobile.tok as Record<string, string>;
      c.receiver.mobile.tok = Object.fromEntries(Object.entries(tok).reverse());
      c.receiver.mobile.mask = { screen: c.receiver.mobile.mask.screen, label: c.receiver.mobile.mask.label };
      c.receiver.address = Object.fromEntries(Object.entries(c.receiver.address).reverse());
    });
    expect(await sealer.verify(waybill, reordered)).toEqual({ ok: true });
  });
});

describe('t2 messages cannot collide (length framing)', () => {
  const schema = defineSchema(
    'collide',
    1,
    {
      id: s.string(),
      a: s.string().optional(),
      b: s.string().optional(),
      n: s.number().optional(),
      list: s.array(s.string()).optional(),
      o: s.object({ x: s.string().optional(), y: s.string().optional() }).optional(),
      p: s.name().optional(),
      q: s.name().optional(),
    },
    { recordId: 'id', signed: ['a', 'b', 'n', 'list', 'o'] },
  );
  const message = (r: Rec): string => {
    const w = new MessageWriter();
    expect(writeMessage(w, schema, r)).toBeUndefined();
    return Buffer.from(w.bytes()!).toString('hex');
  };
  const sealed = (enc: string, mask: Record<string, string>, tok?: Record<string, string>) => ({ enc, mask, ...(tok ? { tok } : {}) });

  it('the obvious collisions give different messages', () => {
    const pairs: [Rec, Rec][] = [
      [{ id: 'r', a: 'ab', b: 'c' }, { id: 'r', a: 'a', b: 'bc' }],
      [{ id: 'r', a: '' }, { id: 'r' }],
      [{ id: 'r', a: 'x' }, { id: 'r', b: 'x' }],
      [{ id: 'r', a: '1' }, { id: 'r', n: 1 }],
      [{ id: 'r', n: 1 }, { id: 'r', n: 10 }],
      [{ id: 'ra' }, { id: 'r', a: 'a' }],
      [{ id: 'r', list: ['ab', 'c'] }, { id: 'r', list: ['a', 'bc'] }],
      [{ id: 'r', list: [] }, { id: 'r' }],
      [{ id: 'r', list: [''] }, { id: 'r', list: [] }],
      [{ id: 'r', o: {} }, { id: 'r' }],
      [{ id: 'r', o: { x: 'v' } }, { id: 'r', o: { y: 'v' } }],
      [{ id: 'r', p: sealed('e', { ab: 'c' }) }, { id: 'r', p: sealed('e', { a: 'bc' }) }],
      [{ id: 'r', p: sealed('e', { t: 'x' }) }, { id: 'r', p: sealed('e', {}, { t: 'x' }) }],
      [{ id: 'r', p: sealed('e', {}) }, { id: 'r', p: sealed('e', {}, {}) }],
      [{ id: 'r', p: sealed('e', { l: 'm' }) }, { id: 'r', q: sealed('e', { l: 'm' }) }],
      [{ id: 'r', p: sealed('ex', {}) }, { id: 'r', p: sealed('e', { x: '' }) }],
      [{ id: 'r', a: 'p', p: sealed('e', {}) }, { id: 'r', a: 'p\u0000\u0000\u0000\u0001pe', p: sealed('', {}) }],
      // A value that spells out the next unit (its path's length prefix, path, type letter and value).
      [{ id: 'r', a: 'x\u0000\u0000\u0000\u0001bsy' }, { id: 'r', a: 'x', b: 'y' }],
      [{ id: 'r', list: ['a\u0000\u0000\u0000\u0006list.1sb'] }, { id: 'r', list: ['a', 'b'] }],
    ];
    for (const [x, y] of pairs) expect(message(x), JSON.stringify([x, y])).not.toBe(message(y));
  });

  it('two records have the same message only if they are the same record (property)', () => {
    const text = fc.oneof(fc.constantFrom('', 'a', 'ab', 'b', '1', '\u0000', '\u0000\u0000\u0000\u0001', '张', 'e'), fc.string({ maxLength: 4 }));
    const names = fc.dictionary(fc.constantFrom('a', 'ab', 'b', 'label', 't'), text, { maxKeys: 3 });
    const field = fc.record({ enc: text, mask: names, tok: fc.option(names, { nil: undefined }) }, { requiredKeys: ['enc', 'mask'] });
    const record = fc.record(
      {
        id: text,
        a: text,
        b: text,
        n: fc.integer({ min: -3, max: 12 }),
        list: fc.array(text, { maxLength: 3 }),
        o: fc.record({ x: text, y: text }, { requiredKeys: [] }),
        p: field,
        q: field,
      },
      { requiredKeys: ['id'] },
    );
    fc.assert(
      fc.property(record, record, (x, y) => {
        if (message(x) === message(y)) expect(referenceCanonicalJson(x)).toBe(referenceCanonicalJson(y));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('t2 tags: legacy plaintext written into a sealed record (R16 F1)', () => {
  const inject = (a: Rec) => edit(a, (c) => (c.receiver.landline = '010-88886666'));

  it('plaintext added to a protected field that was absent fails verify, open(acceptPlaintext) and a passSealed re-run', async () => {
    const { sealer, keyring, keyStore } = freshSealer();
    const a = (await sealer.seal(waybill, sampleWaybill())) as Rec;
    expect(a.receiver.landline).toBeUndefined();
    const forged = inject(a);
    // The tag saw no unit at receiver.landline; a plaintext marker unit is one more.
    const mixed = createSealerLike({ keyring, keyStore, acceptPlaintext: true });
    expect(await mixed.verify(waybill, forged)).toEqual({ ok: false, path: 'receiver.landline', reason: 'added' });
    await expect(mixed.open(waybill, forged, access)).rejects.toMatchObject({ code: 'INTEGRITY', path: 'receiver.landline' });
    // The migration re-run must not seal the writer's value and write a new tag over it.
    const rerun = createSealerLike({ keyring, keyStore, passSealed: true });
    await expect(rerun.seal(waybill, forged as never)).rejects.toMatchObject({ code: 'INTEGRITY' });
    // A sealer that accepts no plaintext refuses the record before its tag.
    expect(await sealer.verify(waybill, forged)).toEqual({ ok: false, path: 'receiver.landline', reason: 'not_a_record' });
  });

  it('a sealed field turned into plaintext is an altered unit; a retagged half-migrated record keeps its markers', async () => {
    const { sealer, keyring, keyStore } = freshSealer();
    const a = (await sealer.seal(waybill, sampleWaybill())) as Rec;
    const mixed = createSealerLike({ keyring, keyStore, acceptPlaintext: true });
    expect(await mixed.verify(waybill, edit(a, (c) => (c.receiver.name = '王五')))).toEqual({ ok: false, path: 'receiver.name', reason: 'altered' });
    // A record being migrated (name still plaintext) tagged by retag: its plaintext unit is a marker.
    const half = await mixed.retag(waybill, edit(a, (c) => (c.receiver.name = '欧阳娜娜')));
    expect(await mixed.verify(waybill, half)).toEqual({ ok: true });
    expect((await mixed.open(waybill, half, access)).plaintext).toEqual(['receiver.name']);
    // The marker holds no value (changing legacy plaintext stays uncovered, FORMAT §11), but adding more does not pass.
    expect(await mixed.verify(waybill, inject(half))).toEqual({ ok: false, path: 'receiver.landline', reason: 'added' });
    // The re-run seals the legacy value under a new tag.
    const resealed = (await createSealerLike({ keyring, keyStore, passSealed: true }).seal(waybill, half as never)) as Rec;
    expect(typeof resealed.receiver.name).toBe('object');
    expect(await sealer.verify(waybill, resealed)).toEqual({ ok: true });
  });

  it('absent, plaintext and sealed give three different messages', () => {
    const schema = defineSchema('marker', 1, { id: s.string(), p: s.name().optional() }, { recordId: 'id' });
    const message = (r: Rec) => {
      const w = new MessageWriter();
      expect(writeMessage(w, schema, r)).toBeUndefined();
      return Buffer.from(w.bytes()!).toString('hex');
    };
    const all = [message({ id: 'r' }), message({ id: 'r', p: 'x' }), message({ id: 'r', p: { enc: '', mask: {} } })];
    expect(new Set(all).size).toBe(3);
    // The marker carries no value: the plaintext never enters the message.
    expect(message({ id: 'r', p: 'x' })).toBe(message({ id: 'r', p: 'y' }));
  });
});

function createSealerLike(options: { keyring: unknown; keyStore: unknown; acceptPlaintext?: boolean; passSealed?: boolean }) {
  return createSealer({ guard: 'allow-all', ...options } as never);
}

describe('writer-sized strings and prototype names (R16 F4)', () => {
  const schema = defineSchema('huge', 1, { id: s.string(), p: s.name().optional() }, { recordId: 'id' });

  it('an enc, mask or token longer than any sealed field holds is not a record: refused before it is copied', () => {
    const huge = 'A'.repeat(1_000_001);
    const w = new MessageWriter();
    for (const p of [{ enc: huge, mask: {} }, { enc: 'e', mask: { label: huge } }, { enc: 'e', mask: {}, tok: { t: huge } }, { enc: 'e', mask: { [huge]: 'x' } }]) {
      expect(writeMessage(w, schema, { id: 'r', p })).toEqual({ path: 'p' });
    }
    // Just under the cap still has a message.
    expect(writeMessage(w, schema, { id: 'r', p: { enc: huge.slice(1), mask: {} } })).toBeUndefined();
    expect(w.bytes()!.length).toBeLessThan(1_000_100);
  });

  it('defineSchema refuses field names that are Object.prototype members (records are read as obj[key])', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const shape = Object.fromEntries([['id', s.string()], [name, s.string().optional()]]);
      expect(() => defineSchema('proto', 1, shape, { recordId: 'id' }), name).toThrow(/Object\.prototype member/);
      expect(() => defineSchema('proto', 1, { id: s.string(), inner: s.object(Object.fromEntries([[name, s.string()]])) }, { recordId: 'id' }), name).toThrow(/Object\.prototype member/);
    }
  });
});
