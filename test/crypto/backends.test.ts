/**
 * Every AEAD implementation gives the same bytes (issue 6): the portable suites (this package's
 * XChaCha20-Poly1305 and GCM) and the native ones (OpenSSL through node:crypto)
 * against noble's reference implementations and OpenSSL directly, for every length from 0 to past
 * several blocks and the thresholds where an implementation changes, with generated keys, nonces
 * and AAD; forgeries and truncations are rejected everywhere. The AAD assembly, the nonce draw and
 * the native self-test are checked here too.
 */
import { createCipheriv } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import { hchacha, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { forgetPreparedKeys, getSuite, nativeSuitesOf, SUITES, type AeadSuite, type SuiteName } from '../../src/crypto/aead.js';
import { nativeCrypto, opensslOnly, type NativeCrypto } from '../../src/crypto/backend.js';
import { describeBackend, loadNativeCrypto, selfTest, useNativeCrypto } from '../../src/crypto/backend-load.js';
import { backend as nodeBackend } from '../../src/crypto/backend-node.js';
import { encodeParts } from '../../src/crypto/bytes.js';
import { MAX_NONCE_BYTES, randomNonce } from '../../src/crypto/random.js';
import { sm4gcm } from '../../src/crypto/sm/sm4gcm.js';
import { AuthenticationError } from '../../src/errors.js';
import { aadHead, assembleAad, fieldAad } from '../../src/format/aad.js';
import { encodePart } from '../../src/crypto/bytes.js';

const native = nodeBackend!;
const openssl = opensslOnly(native);
const portable = (name: SuiteName) => getSuite(name, 'js');
/** With libsodium's XChaCha20-Poly1305 (sodium-native), and OpenSSL alone. */
const nativeSuite = (name: SuiteName) => nativeSuitesOf(native)[name];
const opensslSuite = (name: SuiteName) => nativeSuitesOf(openssl)[name];

/** noble's (and this package's public SM4-GCM) one-shot implementations: the references. */
const reference: Record<SuiteName, (key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, aad: Uint8Array) => Uint8Array> = {
  'xchacha20-poly1305': (k, n, p, a) => xchacha20poly1305(k, n, a).encrypt(p),
  'aes-256-gcm': (k, n, p, a) => gcm(k, n, a).encrypt(p),
  'sm4-gcm': (k, n, p, a) => sm4gcm(k, n, a).encrypt(p),
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Lengths around every block size and tail, and a few long ones. */
const LENGTHS = [...Array.from({ length: 140 }, (_, i) => i), 191, 192, 193, 255, 256, 257, 511, 512, 513, 1023, 1024, 4097, 70_000];

const input = (suite: AeadSuite) =>
  fc.record({
    key: fc.uint8Array({ minLength: suite.keyLength, maxLength: suite.keyLength }),
    nonce: fc.uint8Array({ minLength: suite.nonceLength, maxLength: suite.nonceLength }),
    aad: fc.uint8Array({ maxLength: 300 }),
    length: fc.oneof(fc.constantFrom(...LENGTHS), fc.nat({ max: 2000 })),
    seed: fc.nat(),
  });

const bytes = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 131 + seed) & 0xff);

describe.each(SUITES)('%s: portable and native against the reference', (name) => {
  const implementations = [portable(name), nativeSuite(name), opensslSuite(name)];

  it('every length gives the reference bytes, opens, and rejects any flipped bit or truncation', () => {
    for (const length of LENGTHS) {
      const suite = portable(name);
      const key = bytes(suite.keyLength, length);
      const nonce = bytes(suite.nonceLength, length + 1);
      const aad = bytes(length % 97, length + 2);
      const plain = bytes(length, length + 3);
      const expected = hex(reference[name](key, nonce, plain, aad));
      for (const impl of implementations) {
        const sealed = impl.encrypt(key, nonce, plain, aad);
        expect(hex(sealed), `${impl.backend} ${length}`).toBe(expected);
        for (const other of implementations) expect(hex(other.decrypt(key, nonce, sealed, aad))).toBe(hex(plain));
        const flipped = sealed.slice();
        flipped[(length * 7) % flipped.length]! ^= 1 << (length % 8);
        expect(() => impl.decrypt(key, nonce, flipped, aad)).toThrow(AuthenticationError);
        expect(() => impl.decrypt(key, nonce, sealed.subarray(0, sealed.length - 1), aad)).toThrow(AuthenticationError);
        const badAad = aad.length > 0 ? aad.slice(1) : new Uint8Array([0]);
        expect(() => impl.decrypt(key, nonce, sealed, badAad)).toThrow(AuthenticationError);
      }
    }
  });

  it('generated keys, nonces, AAD and lengths: all implementations agree', () => {
    fc.assert(
      fc.property(input(portable(name)), ({ key, nonce, aad, length, seed }) => {
        const plain = bytes(length, seed);
        const expected = hex(reference[name](key, nonce, plain, aad));
        for (const impl of implementations) {
          const sealed = impl.encrypt(key, nonce, plain, aad);
          expect(hex(sealed)).toBe(expected);
          expect(hex(impl.decrypt(key, nonce, sealed, aad))).toBe(hex(plain));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('per-key state never outlives the key bytes: a key array refilled with other bytes gives the new key\'s output', () => {
    for (const impl of implementations) {
      const key = bytes(impl.keyLength, 1);
      const nonce = bytes(impl.nonceLength, 2);
      const plain = bytes(40, 3);
      const aad = bytes(20, 4);
      impl.encrypt(key, nonce, plain, aad);
      key.set(bytes(impl.keyLength, 9));
      expect(hex(impl.encrypt(key, nonce, plain, aad))).toBe(hex(reference[name](key.slice(), nonce, plain, aad)));
      forgetPreparedKeys();
      expect(hex(impl.encrypt(key, nonce, plain, aad))).toBe(hex(reference[name](key.slice(), nonce, plain, aad)));
    }
  });

  it('refuses other key and nonce sizes on every implementation', () => {
    for (const impl of implementations) {
      const key = bytes(impl.keyLength + 1, 0);
      expect(() => impl.encrypt(key, bytes(impl.nonceLength, 0), new Uint8Array(3), new Uint8Array())).toThrow(/wrong key or nonce size/);
      expect(() => impl.decrypt(key, bytes(impl.nonceLength, 0), new Uint8Array(30), new Uint8Array())).toThrow(AuthenticationError);
      expect(() => impl.decrypt(bytes(impl.keyLength, 0), bytes(impl.nonceLength - 1, 0), new Uint8Array(30), new Uint8Array())).toThrow(AuthenticationError);
    }
  });
});

describe('XChaCha20-Poly1305 composition', () => {
  it('is HChaCha20 (noble) then OpenSSL ChaCha20-Poly1305 with nonce 0^4 ‖ nonce[16..24] (draft-irtf-cfrg-xchacha §2.3.1)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 24, maxLength: 24 }), fc.uint8Array({ maxLength: 700 }), fc.uint8Array({ maxLength: 64 }), (key, nonce, plain, aad) => {
        const kw = new Uint32Array(new Uint8Array(key).buffer);
        const nw = new Uint32Array(new Uint8Array(nonce.subarray(0, 16)).buffer);
        const sub = new Uint32Array(8);
        hchacha(Uint32Array.of(0x61707865, 0x3320646e, 0x79622d32, 0x6b206574), kw, nw, sub);
        const iv = Buffer.concat([Buffer.alloc(4), Buffer.from(nonce.subarray(16))]);
        const c = createCipheriv('chacha20-poly1305', Buffer.from(sub.buffer), iv, { authTagLength: 16 });
        c.setAAD(aad, { plaintextLength: plain.length });
        const openssl = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
        expect(hex(portable('xchacha20-poly1305').encrypt(key, nonce, plain, aad))).toBe(openssl.toString('hex'));
        expect(hex(opensslSuite('xchacha20-poly1305').encrypt(key, nonce, plain, aad))).toBe(openssl.toString('hex'));
        expect(hex(nativeSuite('xchacha20-poly1305').encrypt(key, nonce, plain, aad))).toBe(openssl.toString('hex'));
      }),
      { numRuns: 200 },
    );
  });
});

describe('native module selection', () => {
  it('loads node:crypto with libsodium (sodium-native) on Node; "openssl" leaves libsodium out, "js" stays portable', async () => {
    expect(await loadNativeCrypto()).toBeDefined();
    expect(nativeCrypto()?.name).toBe('node:crypto');
    expect(native.xchacha20poly1305?.name).toMatch(/^libsodium \(sodium-native \d+\.\d+\.\d+\)$/);
    expect(getSuite('xchacha20-poly1305').backend).toBe(native.xchacha20poly1305!.name);
    expect(getSuite('xchacha20-poly1305', 'openssl').backend).toBe('node:crypto');
    expect(getSuite('aes-256-gcm').backend).toBe('node:crypto');
    expect(getSuite('aes-256-gcm', 'js').backend).toBe('js');
    expect(getSuite('xchacha20-poly1305', 'js').backend).toBe('js');
    expect(await describeBackend()).toBe(`xchacha20-poly1305: ${native.xchacha20poly1305!.name}, aes-256-gcm: node:crypto, sm4-gcm: js`);
    expect(await describeBackend('openssl')).toBe('xchacha20-poly1305: node:crypto, aes-256-gcm: node:crypto, sm4-gcm: js');
    expect(await describeBackend('js')).toBe('xchacha20-poly1305: js, aes-256-gcm: js, sm4-gcm: js');
  });

  it('a libsodium layer that gets one byte wrong or accepts a forgery is dropped: OpenSSL alone is used', () => {
    const sodium = native.xchacha20poly1305!;
    const wrong: NativeCrypto = {
      ...native,
      xchacha20poly1305: { ...sodium, seal: (k, n, p, a) => (p.length === 16 ? new Uint8Array(p.length + 16) : sodium.seal(k, n, p, a)) },
    };
    const lax: NativeCrypto = { ...native, xchacha20poly1305: { ...sodium, open: (_k, _n, s) => s.slice(0, s.length - 16) } };
    try {
      for (const b of [wrong, lax]) {
        expect(selfTest(b)).toBe(false);
        expect(selfTest(opensslOnly(b))).toBe(true);
        expect(useNativeCrypto(b)).toBe(true);
        expect(nativeCrypto()?.xchacha20poly1305).toBeUndefined();
        expect(getSuite('xchacha20-poly1305').backend).toBe('node:crypto');
      }
    } finally {
      expect(useNativeCrypto(native)).toBe(true);
    }
    expect(nativeCrypto()).toBe(native);
  });

  it('a native module that gets one byte wrong, or accepts a forgery, fails its self-test and is not used', async () => {
    const wrong: NativeCrypto = {
      ...native,
      aes256gcmSeal: (k, n, p, a) => {
        const out = native.aes256gcmSeal(k, n, p, a);
        if (p.length === 31) out[0]! ^= 1;
        return out;
      },
    };
    const lax: NativeCrypto = { ...native, chacha20poly1305Open: (k, n, s) => s.subarray(0, s.length - 16) };
    const badMac: NativeCrypto = { ...native, hmacSha256: () => new Uint8Array(32) };
    const laxSig: NativeCrypto = { ...native, ed25519Verifier: () => () => true };
    const wrongSig: NativeCrypto = { ...native, ed25519Signer: (seed, pub) => (m) => native.ed25519Signer!(seed, pub)(Uint8Array.of(...m, 0)) };
    for (const b of [wrong, lax, badMac, laxSig, wrongSig]) {
      expect(selfTest(b)).toBe(false);
      expect(useNativeCrypto(b)).toBe(false);
    }
    expect(selfTest(native)).toBe(true);
    expect(nativeCrypto()).toBe(native);
  });
});

describe('field AAD assembly', () => {
  it('is byte for byte the length-prefixed list of all eight items', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.nat({ max: 1000 }), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.string(), (suite, schemaName, schemaVersion, recordId, fieldPath, dataKeyId) => {
        const expected = encodeParts(['waybill-seal/field', 'ws1', suite, schemaName, String(schemaVersion), recordId, fieldPath, dataKeyId]);
        expect(hex(fieldAad({ suite, schemaName, schemaVersion, recordId, fieldPath, dataKeyId }))).toBe(hex(expected));
        expect(hex(assembleAad(aadHead(suite, schemaName, schemaVersion), encodePart(recordId), fieldPath, dataKeyId))).toBe(hex(expected));
      }),
    );
  });
});

describe('nonces: drawn fresh per message, never ahead', () => {
  it('every nonce is its own CSPRNG draw at the moment of use (a restored VM snapshot cannot replay a pool)', () => {
    const draw = vi.spyOn(globalThis.crypto, 'getRandomValues');
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 400; i++) {
        const before = draw.mock.calls.length;
        const n = randomNonce(i % 2 ? 24 : 12);
        // One draw of exactly this nonce's bytes: nothing left over in memory for a later nonce.
        expect(draw.mock.calls.length).toBe(before + 1);
        expect((draw.mock.calls.at(-1)![0] as Uint8Array).length).toBe(n.length);
        const h = hex(n);
        expect(seen.has(h)).toBe(false);
        seen.add(h);
      }
    } finally {
      draw.mockRestore();
    }
    expect(() => randomNonce(0)).toThrow(RangeError);
    expect(() => randomNonce(MAX_NONCE_BYTES + 1)).toThrow(RangeError);
  });
});
