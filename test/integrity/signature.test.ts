/**
 * Signed record tags (issue 14): a label printer, station or `mask` holding only the public keys
 * checks records and cannot forge them; `open` accepts only the tag keys it is configured with.
 */
import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/crypto/bytes.js';
import { createTagger } from '../../src/integrity/tag.js';
import { exportVerifyKeys, parseVerifyKeys } from '../../src/integrity/verify-keys.js';
import { IntegrityError, KeyError, LocalKeyring, MemoryKeyStore, createSealer, createVerifier, generateLocalKeyMaterial, mask, waybill, type SealedRecord } from '../../src/index.js';
import { nativeCrypto } from '../../src/crypto/backend.js';
import { loadNativeCrypto } from '../../src/crypto/backend-load.js';
import { newSigningKey, type SignatureAlg } from '../../src/crypto/signature.js';
import { sampleWaybill } from '../helpers.js';

type W = typeof waybill;
const access = { principal: 't', purpose: 't', reveal: 'plain' } as const;
const editMobileLabel = (s: SealedRecord<W>, label: string): SealedRecord<W> => {
  const c = structuredClone(s);
  (c.receiver.mobile as unknown as { mask: Record<string, string> }).mask['label'] = label;
  return c;
};

async function signingKeyring(alg: SignatureAlg, versions = [1]) {
  const material = generateLocalKeyMaterial();
  const keys = [];
  for (const version of versions) keys.push({ version, key: toBase64Url(await newSigningKey(alg)) });
  return new LocalKeyring({ ...material, secrets: { ...material.secrets, [alg]: keys } });
}

describe.each<SignatureAlg>(['ed25519', 'sm2'])('%s record signatures', (alg) => {
  it('a printer with only verify.json checks labels and rejects an edited *******9999 mask', async () => {
    const keyring = await signingKeyring(alg);
    const sealer = createSealer({ keyring, keyStore: new MemoryKeyStore(), guard: 'allow-all', integrity: { alg } });
    const sealed = await sealer.seal(waybill, sampleWaybill());
    expect((sealed as Record<string, unknown>)['$tag']).toMatch(new RegExp(`^t2\\.${alg}\\.1\\.[A-Za-z0-9_-]{86}\\.[A-Za-z0-9_-]+$`));
    expect((await sealer.open(waybill, sealed, access)).record).toEqual(sampleWaybill());

    // What the printer gets, through JSON as it would travel.
    const file = JSON.parse(JSON.stringify(await exportVerifyKeys(keyring, alg)));
    const printer = createVerifier(parseVerifyKeys(file));
    expect(await printer.verify(waybill, sealed)).toEqual({ ok: true });
    expect((await printer.mask(waybill, sealed, 'label')).receiver.mobile).toBe('*******4321');

    // The attack: a forged phone on the label (customers called by the "courier").
    const forged = editMobileLabel(sealed, '*******9999');
    expect(() => mask(waybill, forged, 'label')).not.toThrow(); // the key-free mask() trusts stored data
    await expect(printer.mask(waybill, forged, 'label')).rejects.toMatchObject({ code: 'INTEGRITY', path: 'receiver.mobile', reason: 'altered' });
    await expect(sealer.open(waybill, forged, access)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('verify.json holds nothing that makes a tag: re-signing, HMAC tags and stripped tags are refused', async () => {
    const keyring = await signingKeyring(alg);
    const sealer = createSealer({ keyring, keyStore: new MemoryKeyStore(), guard: 'allow-all', integrity: { alg } });
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const file = await exportVerifyKeys(keyring, alg);
    // Public keys only: no member that could hold a secret.
    expect(Object.keys(file).sort()).toEqual(['alg', 'format', 'keys', 'version']);
    for (const k of file.keys) expect(Object.keys(k).sort()).toEqual(['publicKey', 'version']);
    const verifyKeys = parseVerifyKeys(file);
    const printer = createVerifier(verifyKeys);
    const forged = editMobileLabel(sealed, '*******9999');

    // A tagger over the verify keys cannot sign.
    await expect(createTagger(verifyKeys, 'hmac-sha256', { alg }).tag(waybill, forged)).rejects.toBeInstanceOf(KeyError);
    // A tag signed by a key of the attacker's own, under the same version number.
    const own = await signingKeyring(alg);
    const resigned = { ...forged, $tag: await createTagger(own, 'hmac-sha256', { alg }).tag(waybill, forged) };
    expect((await printer.verify(waybill, resigned)).ok).toBe(false);
    await expect(sealer.open(waybill, resigned, access)).rejects.toBeInstanceOf(IntegrityError);
    // An HMAC tag under a secret of the attacker's choosing (the downgrade).
    const hmac = { ...forged, $tag: await createTagger(new LocalKeyring(generateLocalKeyMaterial())).tag(waybill, forged) };
    expect(await printer.verify(waybill, hmac)).toEqual({ ok: false, path: '$tag', reason: 'key_not_accepted' });
    await expect(sealer.open(waybill, hmac, access)).rejects.toMatchObject({ reason: 'key_not_accepted' });
    // No tag at all.
    const { $tag: _, ...stripped } = forged as Record<string, unknown>;
    expect(await printer.verify(waybill, stripped as never)).toEqual({ ok: false, path: '$tag', reason: 'missing_tag' });
  });

  it('a printer refuses a signed record whose locators were rewritten: they are not signed, but must match (R16 F2)', async () => {
    const keyring = await signingKeyring(alg);
    const sealed = await createSealer({ keyring, keyStore: new MemoryKeyStore(), guard: 'allow-all', integrity: { alg } }).seal(waybill, sampleWaybill());
    const printer = createVerifier(parseVerifyKeys(await exportVerifyKeys(keyring, alg)));
    const tag = (sealed as Record<string, unknown>)['$tag'] as string;
    const cut = tag.lastIndexOf('.') + 1;
    const flipped = Buffer.from(tag.slice(cut), 'base64url');
    flipped[0]! ^= 0x80;
    for (const locators of ['', flipped.toString('base64url')]) {
      const forged = { ...sealed, $tag: tag.slice(0, cut) + locators };
      expect(await printer.verify(waybill, forged)).toEqual({ ok: false, path: '$tag', reason: 'altered' });
      await expect(printer.mask(waybill, forged, 'label')).rejects.toMatchObject({ code: 'INTEGRITY', path: '$tag', reason: 'altered' });
    }
    expect(await printer.verify(waybill, sealed)).toEqual({ ok: true });
  });

  it('verify refuses what the schema refuses: content outside the schema is covered by no tag', async () => {
    const keyring = await signingKeyring(alg);
    const sealed = await createSealer({ keyring, keyStore: new MemoryKeyStore(), integrity: { alg } }).seal(waybill, sampleWaybill());
    const printer = createVerifier(parseVerifyKeys(await exportVerifyKeys(keyring, alg)));
    const json = JSON.stringify(sealed);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- records edited as raw JSON
    const games: [string, (r: any) => unknown, string][] = [
      ['an extra top-level field', (r) => ({ ...r, evil: 'call 13900009999' }), 'evil'],
      ['an extra nested field', (r) => ((r.receiver.address.note = 'call 13900009999'), r), 'receiver.address.note'],
      ['a sealed field moved under a dotted top-level key', (r) => ((r['receiver.mobile'] = r.receiver.mobile), delete r.receiver.mobile, r), 'receiver.mobile'],
      ['a nested $tag', (r) => ((r.receiver.$tag = 'x'), r), 'receiver.$tag'],
      ['an own __proto__ key', () => JSON.parse(json.replace('{"waybillNo"', '{"__proto__":{"x":1},"waybillNo"')), '__proto__'],
    ];
    for (const [, game, path] of games) {
      const verdict = await printer.verify(waybill, game(JSON.parse(json)) as never);
      expect(verdict).toMatchObject({ ok: false, reason: 'not_a_record' });
      expect((verdict as { path: string }).path).toContain(path.split('.')[0]);
    }
    expect(await printer.verify(waybill, JSON.parse(json))).toEqual({ ok: true });
  });

  it('a verify-only file of another algorithm, or a full key file given as one, is refused', async () => {
    const file = await exportVerifyKeys(await signingKeyring(alg), alg);
    expect(() => parseVerifyKeys({ ...file, secrets: { integrity: [] } })).toThrow(/unexpected member "secrets"/);
    expect(() => parseVerifyKeys({ format: 'waybill-seal/keys', version: 1 })).toThrow(KeyError);
    expect(() => parseVerifyKeys({ ...file, keys: [{ version: 1, publicKey: 'AAAA' }] })).toThrow(/not a base64url/);
    const other = alg === 'ed25519' ? 'sm2' : 'ed25519';
    const otherSealer = createSealer({ keyring: await signingKeyring(other), keyStore: new MemoryKeyStore(), guard: 'allow-all', integrity: { alg: other } });
    const sealed = await otherSealer.seal(waybill, sampleWaybill());
    expect(await createVerifier(parseVerifyKeys(file)).verify(waybill, sealed)).toEqual({ ok: false, path: '$tag', reason: 'key_not_accepted' });
  });
});

describe('open accepts only the configured tag keys', () => {
  const twoVersions = () => {
    const material = generateLocalKeyMaterial();
    const v2 = toBase64Url(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
    return new LocalKeyring({ ...material, secrets: { ...material.secrets, integrity: [...material.secrets!.integrity!, { version: 2, key: v2 }] } });
  };

  it('a tag under an older integrity version the keyring holds is refused unless allowed', async () => {
    const keyring = twoVersions();
    const keyStore = new MemoryKeyStore();
    const old = await createSealer({ keyring, keyStore, guard: 'allow-all', integrity: { version: 1 } }).seal(waybill, sampleWaybill());
    expect((old as Record<string, unknown>)['$tag']).toMatch(/^t2\.hmac-sha256\.1\./);
    // Current is the newest the keyring holds (v2); v1 is held but not configured.
    const current = createSealer({ keyring, keyStore, guard: 'allow-all' });
    await expect(current.open(waybill, old, access)).rejects.toMatchObject({ code: 'INTEGRITY', reason: 'key_not_accepted' });
    expect(await current.verify(waybill, old)).toEqual({ ok: false, path: '$tag', reason: 'key_not_accepted' });
    const allowing = createSealer({ keyring, keyStore, guard: 'allow-all', integrity: { accept: [1] } });
    expect((await allowing.open(waybill, old, access)).record).toEqual(sampleWaybill());
  });

  it('a tag under another version (e.g. one handed to printers) is refused by a sealer pinned to its own', async () => {
    const keyring = twoVersions();
    const keyStore = new MemoryKeyStore();
    const byPrinter = await createSealer({ keyring, keyStore, guard: 'allow-all', integrity: { version: 2 } }).seal(waybill, sampleWaybill());
    const pinned = createSealer({ keyring, keyStore, guard: 'allow-all', integrity: { version: 1 } });
    await expect(pinned.open(waybill, byPrinter, access)).rejects.toMatchObject({ reason: 'key_not_accepted' });
    expect((await pinned.open(waybill, await pinned.seal(waybill, sampleWaybill()), access)).opened.length).toBeGreaterThan(0);
  });

  it('a signing sealer refuses HMAC tags (a downgrade) unless the HMAC key is listed in accept', async () => {
    const keyring = await signingKeyring('ed25519');
    const keyStore = new MemoryKeyStore();
    const hmacSealed = await createSealer({ keyring, keyStore, guard: 'allow-all' }).seal(waybill, sampleWaybill());
    const signing = createSealer({ keyring, keyStore, guard: 'allow-all', integrity: { alg: 'ed25519' } });
    await expect(signing.open(waybill, hmacSealed, access)).rejects.toMatchObject({ reason: 'key_not_accepted' });
    const migrating = createSealer({ keyring, keyStore, guard: 'allow-all', integrity: { alg: 'ed25519', accept: ['hmac-sha256:1'] } });
    expect((await migrating.open(waybill, hmacSealed, access)).record).toEqual(sampleWaybill());
    // retag moves a record to the signature.
    const resigned = await migrating.retag(waybill, hmacSealed);
    expect((resigned as Record<string, unknown>)['$tag']).toMatch(/^t2\.ed25519\.1\./);
    expect((await signing.open(waybill, resigned, access)).record).toEqual(sampleWaybill());
  });

  it('createVerifier over a keyring accepts what open accepts: never an HMAC tag under a signing keyring\'s leftover integrity secret', async () => {
    const keyring = await signingKeyring('ed25519'); // also holds an HMAC integrity secret
    const keyStore = new MemoryKeyStore();
    const sealed = await createSealer({ keyring, keyStore, guard: 'allow-all', integrity: { alg: 'ed25519' } }).seal(waybill, sampleWaybill());
    const forged = editMobileLabel(sealed, '*******9999');
    const hmacForged = { ...forged, $tag: await createTagger(keyring).tag(waybill, forged) };
    const verifier = createVerifier(keyring, { alg: 'ed25519' });
    expect(await verifier.verify(waybill, sealed)).toEqual({ ok: true });
    expect(await verifier.verify(waybill, hmacForged)).toEqual({ ok: false, path: '$tag', reason: 'key_not_accepted' });
    await expect(verifier.mask(waybill, hmacForged, 'label')).rejects.toMatchObject({ reason: 'key_not_accepted' });
    // Listing the HMAC key (a migration) is the only way in, as for open.
    expect(await createVerifier(keyring, { alg: 'ed25519', accept: ['hmac-sha256:1'] }).verify(waybill, hmacForged)).toEqual({ ok: true });
    // An HMAC verifier is pinned the same way: an older integrity version it holds is not current.
    const two = twoVersions();
    const old = await createSealer({ keyring: two, keyStore: new MemoryKeyStore(), guard: 'allow-all', integrity: { version: 1 } }).seal(waybill, sampleWaybill());
    expect(await createVerifier(two).verify(waybill, old)).toEqual({ ok: false, path: '$tag', reason: 'key_not_accepted' });
    expect(await createVerifier(two, { accept: [1] }).verify(waybill, old)).toEqual({ ok: true });
  });

  it('refuses malformed configuration', () => {
    const keyring = twoVersions();
    const make = (integrity: object) => () => createSealer({ keyring, keyStore: new MemoryKeyStore(), integrity: integrity as never });
    expect(make({ alg: 'rsa' })).toThrow(/integrity.alg/);
    expect(make({ version: 0 })).toThrow(/integrity.version/);
    expect(make({ accept: ['x:1'] })).toThrow(/integrity.accept/);
  });
});

describe('ed25519 on OpenSSL and on noble', () => {
  it('signs the same bytes and each verifies the other (Ed25519 is deterministic)', async () => {
    expect(await loadNativeCrypto()).toBeDefined();
    const keyring = await signingKeyring('ed25519');
    const native = createTagger(keyring, 'hmac-sha256', { alg: 'ed25519' });
    const portable = createTagger(keyring, 'hmac-sha256', { alg: 'ed25519', backend: 'js' });
    const sealed = (await createSealer({ keyring, keyStore: new MemoryKeyStore(), integrity: false }).seal(waybill, sampleWaybill())) as unknown as Record<string, unknown>;
    const tag = await native.tag(waybill, sealed);
    expect(nativeCrypto()?.ed25519Signer).toBeDefined();
    expect(await portable.tag(waybill, sealed)).toBe(tag);
    const forged = editMobileLabel({ ...sealed, $tag: tag } as never, '*******9999');
    for (const t of [native, portable]) {
      expect(await t.verify(waybill, { ...sealed, $tag: tag })).toEqual({ ok: true });
      expect(await t.verify(waybill, forged)).toMatchObject({ ok: false, path: 'receiver.mobile' });
    }
  });
});
