/**
 * One field's encryption (issue 18, mutation testing), as the behaviours it protects: plaintext
 * buffers are wiped after use, a truncated ciphertext is refused before any decryption, an empty
 * value round-trips, virtual numbers are bound to their canonical JSON, and decoding failures say
 * nothing but "authentication failed".
 */
import { describe, expect, it } from 'vitest';
import { getSuite, type AeadSuite } from '../../src/crypto/aead.js';
import { fromBase64Url, toBase64Url } from '../../src/crypto/bytes.js';
import { AuthenticationError } from '../../src/errors.js';
import { decryptField, encryptField, recordAad } from '../../src/format/field-crypto.js';
import { parseEnc } from '../../src/format/sealed-field.js';

const real = getSuite('xchacha20-poly1305', 'js');
const key = { id: 'contact/2025-03/1', key: new Uint8Array(32).fill(7) };
const binding = { schemaName: 'waybill', schemaVersion: 1, recordId: 'SF1', fieldPath: 'receiver.name' };
const nonce = () => new Uint8Array(real.nonceLength).fill(1);

/** The real suite, keeping every plaintext buffer it was given or returned, to look at after the call. */
function spySuite(inner: AeadSuite = real): AeadSuite & { seen: Uint8Array[]; decrypts: number } {
  const spy = {
    ...inner,
    seen: [] as Uint8Array[],
    decrypts: 0,
    encrypt(k: Uint8Array, n: Uint8Array, p: Uint8Array, aad: Uint8Array) {
      spy.seen.push(p);
      return inner.encrypt(k, n, p, aad);
    },
    decrypt(k: Uint8Array, n: Uint8Array, c: Uint8Array, aad: Uint8Array) {
      spy.decrypts++;
      const p = inner.decrypt(k, n, c, aad);
      spy.seen.push(p);
      return p;
    },
  };
  return spy;
}
const allZero = (b: Uint8Array) => b.every((x) => x === 0);

describe('plaintext buffers are wiped', () => {
  for (const [what, value] of [
    ['a short value (scratch buffer)', '欧阳娜娜'],
    ['a value over 1 KiB (own buffer)', '路'.repeat(2000)],
  ] as const) {
    it(`${what}: the bytes given to the cipher are zero once encryptField returns`, () => {
      const suite = spySuite();
      const enc = encryptField(suite, key, nonce(), binding, value);
      expect(suite.seen).toHaveLength(1);
      expect(suite.seen[0]!.length).toBeGreaterThan(0);
      expect(allZero(suite.seen[0]!)).toBe(true);
      expect(decryptField(real, key.key, parseEnc(enc), binding, 'name')).toBe(value);
    });
  }

  it('the decrypted bytes are zero once decryptField returns the string', () => {
    const enc = parseEnc(encryptField(real, key, nonce(), binding, '欧阳娜娜'));
    const suite = spySuite();
    expect(decryptField(suite, key.key, enc, binding, 'name')).toBe('欧阳娜娜');
    expect(suite.seen[0]!.length).toBe(12);
    expect(allZero(suite.seen[0]!)).toBe(true);
  });

  it('the decrypted bytes are zero after a decoding failure too', () => {
    const enc = parseEnc(encryptField(real, key, nonce(), binding, 'not json'));
    const suite = spySuite();
    expect(() => decryptField(suite, key.key, enc, binding, 'virtualNumber')).toThrow(AuthenticationError);
    expect(allZero(suite.seen[0]!)).toBe(true);
  });
});

describe('ciphertext length', () => {
  it('a payload shorter than nonce + tag is refused without calling the cipher', () => {
    const enc = parseEnc(encryptField(real, key, nonce(), binding, ''));
    for (const cut of [1, 8, real.tagLength]) {
      const suite = spySuite();
      const truncated = { ...enc, payload: enc.payload.subarray(0, enc.payload.length - cut) };
      expect(() => decryptField(suite, key.key, truncated, binding, 'name')).toThrow(new AuthenticationError());
      expect(suite.decrypts).toBe(0);
    }
  });

  it('an empty value (payload exactly nonce + tag) opens', () => {
    const enc = parseEnc(encryptField(real, key, nonce(), binding, ''));
    expect(enc.payload.length).toBe(real.nonceLength + real.tagLength);
    expect(decryptField(real, key.key, enc, binding, 'name')).toBe('');
  });

  it('a nonce whose length is no multiple of 3 still gives base64url(nonce || ciphertext)', () => {
    const odd: AeadSuite = { ...real, nonceLength: 16, encrypt: () => new Uint8Array([1, 2, 3, 4, 5]) };
    const n = new Uint8Array(16).fill(9);
    const enc = encryptField(odd, key, n, binding, 'x');
    expect(enc.split('.').at(-1)).toBe(toBase64Url(new Uint8Array([...n, 1, 2, 3, 4, 5])));
    expect(fromBase64Url(enc.split('.').at(-1)!)).toEqual(new Uint8Array([...n, 1, 2, 3, 4, 5]));
  });
});

describe('binding', () => {
  it('the record AAD of one schema does not open a field sealed under another schema name', () => {
    const enc = parseEnc(encryptField(real, key, nonce(), binding, '欧阳娜娜', recordAad(real.name, binding)));
    const other = { ...binding, schemaName: 'parcel' };
    expect(() => decryptField(real, key.key, enc, other, 'name')).toThrow(AuthenticationError);
    expect(() => decryptField(real, key.key, enc, other, 'name', recordAad(real.name, other))).toThrow(AuthenticationError);
    expect(decryptField(real, key.key, enc, binding, 'name', recordAad(real.name, binding))).toBe('欧阳娜娜');
  });
});

describe('virtual numbers', () => {
  it('round-trip with and without expiresAt, encrypted as canonical JSON in the order main, ext, expiresAt', () => {
    for (const v of [
      { ext: '1234', main: '13800138000' },
      { expiresAt: '2025-03-08T00:00:00Z', ext: '1234', main: '13800138000' },
    ]) {
      const suite = spySuite();
      const enc = parseEnc(encryptField(suite, key, nonce(), binding, v));
      const opened = decryptField(real, key.key, enc, binding, 'virtualNumber');
      expect(opened).toEqual(v);
      expect(Object.keys(opened)).toEqual(v.expiresAt ? ['main', 'ext', 'expiresAt'] : ['main', 'ext']);
    }
  });

  it('decrypted JSON that is not a { main, ext } object is refused as "authentication failed", content unquoted', () => {
    for (const text of ['[]', 'null', '{"main":"138"}', '{"main":1,"ext":"2"}', '{"main":"1","ext":2}', '{"main":"13800138000","ext":']) {
      const enc = parseEnc(encryptField(real, key, nonce(), binding, text));
      let caught: unknown;
      try {
        decryptField(real, key.key, enc, binding, 'virtualNumber');
      } catch (e) {
        caught = e;
      }
      expect(caught).toEqual(new AuthenticationError());
      expect(String((caught as Error).message)).toBe('authentication failed');
    }
  });

  it('a string field opens as the string even when it looks like JSON', () => {
    const enc = parseEnc(encryptField(real, key, nonce(), binding, '{"main":"1","ext":"2"}'));
    expect(decryptField(real, key.key, enc, binding, 'name')).toBe('{"main":"1","ext":"2"}');
  });
});
