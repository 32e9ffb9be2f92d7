/**
 * The AAD's memoised parts (issue 18, mutation testing): the cached head, the reused scratch buffer
 * and the size bound must give exactly the spec's bytes — `encodeParts` of the whole list — for
 * every suite, schema name and version, whatever came before (a cache that ignored the schema name
 * would let a ciphertext move between schemas).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePart, encodeParts } from '../../src/crypto/bytes.js';
import { AAD_LABEL, aadHead, assembleAad, fieldAad, transientAad } from '../../src/format/aad.js';
import { FORMAT_VERSION } from '../../src/format/sealed-field.js';

const spec = (suite: string, schemaName: string, schemaVersion: number, rest: string[] = []) =>
  encodeParts([AAD_LABEL, FORMAT_VERSION, suite, schemaName, String(schemaVersion), ...rest]);

describe('AAD head cache', () => {
  it('a head asked right after another differs in suite, schema name or version alone', () => {
    type Head = [suite: string, schemaName: string, schemaVersion: number];
    const pairs: [Head, Head][] = [
      [['xchacha20-poly1305', 'waybill', 1], ['xchacha20-poly1305', 'parcel', 1]],
      [['xchacha20-poly1305', 'waybill', 1], ['aes-256-gcm', 'waybill', 1]],
      [['xchacha20-poly1305', 'waybill', 1], ['xchacha20-poly1305', 'waybill', 2]],
    ];
    for (const [a, b] of pairs) {
      expect(aadHead(...a)).toEqual(spec(...a));
      expect(aadHead(...b)).toEqual(spec(...b));
      expect(aadHead(...a)).toEqual(spec(...a));
    }
  });

  it('builds a head once per suite and schema version (no allocation per record), also when other heads come between', () => {
    const a = aadHead('aes-256-gcm', 'memo-a', 1);
    expect(aadHead('aes-256-gcm', 'memo-a', 1)).toBe(a);
    aadHead('aes-256-gcm', 'memo-b', 1);
    expect(aadHead('aes-256-gcm', 'memo-a', 1)).toBe(a);
  });

  it('holds a bounded number of heads: after 300 others, a head is built anew (same bytes)', () => {
    const first = aadHead('aes-256-gcm', 'bounded', 1);
    for (let i = 0; i < 300; i++) aadHead('aes-256-gcm', `other-${i}`, 1);
    const again = aadHead('aes-256-gcm', 'bounded', 1);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it('stays exact past its 256-entry bound and for heads seen long ago', () => {
    const first = aadHead('xchacha20-poly1305', 'schema-0', 1);
    for (let i = 0; i < 600; i++) expect(aadHead('sm4-gcm', `schema-${i}`, i)).toEqual(spec('sm4-gcm', `schema-${i}`, i));
    expect(aadHead('xchacha20-poly1305', 'schema-0', 1)).toEqual(first);
  });
});

describe('field AAD bytes', () => {
  const text = fc.string({ unit: 'binary', maxLength: 40 });
  it('equal encodeParts of the whole list for any strings (CJK and astral characters included)', () => {
    fc.assert(
      fc.property(text, text, fc.nat(1000), text, text, text, (suite, schemaName, schemaVersion, recordId, fieldPath, dataKeyId) => {
        const want = spec(suite, schemaName, schemaVersion, [recordId, fieldPath, dataKeyId]);
        expect(fieldAad({ suite, schemaName, schemaVersion, recordId, fieldPath, dataKeyId })).toEqual(want);
        const head = aadHead(suite, schemaName, schemaVersion);
        expect(assembleAad(head, encodePart(recordId), fieldPath, dataKeyId)).toEqual(want);
        expect(transientAad(head, encodePart(recordId), fieldPath, dataKeyId)).toEqual(want);
      }),
    );
  });

  it('the reused buffer grows for long paths (3 bytes per character), and a short AAD after a long one is exact', () => {
    const head = aadHead('xchacha20-poly1305', 'waybill', 1);
    for (const n of [300, 1000, 5000]) {
      const path = '收'.repeat(n);
      expect(transientAad(head, encodePart('SF1'), path, 'contact/2025-03/1')).toEqual(spec('xchacha20-poly1305', 'waybill', 1, ['SF1', path, 'contact/2025-03/1']));
    }
    expect(transientAad(head, encodePart('SF2'), 'a', 'b')).toEqual(spec('xchacha20-poly1305', 'waybill', 1, ['SF2', 'a', 'b']));
  });
});
