import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConfigError,
  KeyError,
  LocalKeyring,
  MemoryKeyStore,
  ValidationError,
  createSealer,
  generateLocalKeyMaterial,
  inspect,
  isProtectedPath,
  mask,
  waybill,
  type SealedRecord,
} from '../../src/index.js';
import { freshSealer, sampleWaybill } from '../helpers.js';

// These tests check the cryptography, not the policy: open everything, as plain values.
const access = { principal: 'test', purpose: 'test', reveal: 'plain' } as const;
type W = typeof waybill;
const clone = <T>(v: T): T => structuredClone(v);

describe('seal → open round trip', () => {
  it('opens every field exactly as given, for every suite', async () => {
    for (const suite of ['xchacha20-poly1305', 'aes-256-gcm'] as const) {
      const { sealer } = freshSealer({ suite });
      const input = sampleWaybill();
      const sealed = await sealer.seal(waybill, input);
      const { record, opened } = await sealer.open(waybill, sealed, access);
      expect(record).toEqual(input);
      expect(opened).toContain('receiver.mobile');
      expect(inspect(sealed).every((f) => f.suite === suite)).toBe(true);
    }
  });

  it('keeps plain fields unchanged and the input shape', async () => {
    const { sealer } = freshSealer();
    const input = sampleWaybill();
    const sealed = await sealer.seal(waybill, input);
    expect(sealed.waybillNo).toBe(input.waybillNo);
    expect(sealed.receiver.address.district).toBe('西湖区');
    expect(sealed.items).toEqual(input.items);
    expect(Object.keys(sealed.receiver.name)).toEqual(['enc', 'mask']);
  });

  it('stores label and screen masks that need no key', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const label = mask(waybill, sealed, 'label');
    expect(label.sender.name).toBe('张*');
    expect(label.receiver.name).toBe('欧***');
    expect(label.sender.mobile).toBe('*******5678');
    expect(label.sender.idNumber).toBe('******************');
    const screen = mask(waybill, sealed, 'screen');
    expect(screen.sender.mobile).toBe('138****5678');
    expect(screen.sender.idNumber).toBe('1****************X');
    expect(screen.receiver.address.detail).toBe('****');
    expect(screen.remark).toBe('****');
    expect(screen.receiver.virtualNumber).toBe('13800138000转1234');
  });

  it('opens only the requested fields; the rest hold their screen masks', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const { record, opened } = await sealer.open(waybill, sealed, { ...access, fields: ['receiver.mobile'] });
    expect(opened).toEqual(['receiver.mobile']);
    expect(record.receiver.mobile).toBe('+86 139-8765-4321');
    expect(record.sender.mobile).toBe('138****5678');
    // The run-time check, for JavaScript callers (TypeScript refuses the path).
    // @ts-expect-error waybillNo is a plain field
    await expect(sealer.open(waybill, sealed, { ...access, fields: ['waybillNo'] })).rejects.toThrow(ConfigError);
  });

  it('isProtectedPath says which paths open({ fields }) takes', () => {
    expect(['receiver.mobile', 'sender.address.detail', 'remark'].every((p) => isProtectedPath(waybill, p))).toBe(true);
    for (const p of ['receiver.phone', 'waybillNo', 'receiver', 'receiver.address.district', 'items[].name', '']) expect(isProtectedPath(waybill, p)).toBe(false);
  });

  it('round-trips generated records: empty, long, emoji and CJK Extension B strings', async () => {
    const { sealer } = freshSealer();
    const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.constantFrom('', '𠮷𠮷𠮷', '👩‍👩‍👧‍👦🚚', 'x'.repeat(5000)));
    await fc.assert(
      fc.asyncProperty(text, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), async (remark, detail) => {
        fc.pre(!remark.normalize('NFKC').includes('*') && !detail.normalize('NFKC').includes('*') && detail.trim() !== '');
        const input = { ...sampleWaybill(), remark };
        input.receiver.address.detail = detail;
        const sealed = await sealer.seal(waybill, input);
        expect((await sealer.open(waybill, sealed, access)).record).toEqual(input);
      }),
      { numRuns: 150 },
    );
  });
});

describe('associated data binds each ciphertext to its place', () => {
  it('a ciphertext moved to another field fails to open', async () => {
    const { sealer } = freshSealer();
    const sealed = clone(await sealer.seal(waybill, sampleWaybill())) as SealedRecord<W>;
    (sealed.receiver as { mobile: unknown }).mobile = sealed.sender.mobile;
    await expect(sealer.open(waybill, sealed, access)).rejects.toThrow(AuthenticationError);
  });

  it('a ciphertext moved to another record fails to open', async () => {
    const { sealer } = freshSealer();
    const a = await sealer.seal(waybill, sampleWaybill());
    const b = clone(await sealer.seal(waybill, { ...sampleWaybill(), waybillNo: 'SF0000000000001' }));
    (b.receiver as { name: unknown }).name = a.receiver.name;
    await expect(sealer.open(waybill, b, access)).rejects.toThrow(AuthenticationError);
    // The same record under another waybill number (a replay) fails too.
    await expect(sealer.open(waybill, { ...a, waybillNo: 'SF0000000000001' }, access)).rejects.toThrow(AuthenticationError);
  });

  it('a record moved to another scope, schema version or key id fails to open', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const april = await sealer.seal(waybill, { ...sampleWaybill(), createdAt: '2025-04-02T00:00:00Z' });
    expect(april.sender.name.enc).toContain('contact/2025-04/1');
    // Point the March ciphertext at the April key: the AAD names the key id, so it fails.
    const moved = clone(sealed);
    (moved.sender as { name: unknown }).name = { ...sealed.sender.name, enc: sealed.sender.name.enc.replace('2025-03', '2025-04') };
    await expect(sealer.open(waybill, moved, access)).rejects.toThrow(AuthenticationError);
    const v2 = { ...waybill, version: 2 };
    await expect(sealer.open(v2, sealed, access)).rejects.toThrow(AuthenticationError);
  });

  it('the suite named in a ciphertext cannot be swapped', async () => {
    const { sealer } = freshSealer();
    const sealed = clone(await sealer.seal(waybill, sampleWaybill()));
    (sealed.sender as { name: unknown }).name = { ...sealed.sender.name, enc: sealed.sender.name.enc.replace('xchacha20-poly1305', 'aes-256-gcm') };
    await expect(sealer.open(waybill, sealed, access)).rejects.toThrow(AuthenticationError);
  });

});

describe('keys', () => {
  it('a wrong KEK gives AuthenticationError, a missing KEK a KeyError', async () => {
    const { sealer, keyStore } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const other = createSealer({ keyring: new LocalKeyring(generateLocalKeyMaterial()), keyStore, guard: 'allow-all' });
    await expect(other.open(waybill, sealed, access)).rejects.toThrow(AuthenticationError);
    const contactOnly = createSealer({ keyring: new LocalKeyring(generateLocalKeyMaterial(['address'])), keyStore, guard: 'allow-all' });
    await expect(contactOnly.open(waybill, sealed, { ...access, fields: ['sender.name'] })).rejects.toThrow(KeyError);
  });

  it('a missing data key is a KeyError', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const { sealer: other } = freshSealer();
    await expect(other.open(waybill, sealed, access)).rejects.toThrow(KeyError);
  });

  it('uses one data key per (key class, scope), created once', async () => {
    const { sealer, keyStore } = freshSealer();
    await sealer.sealMany(waybill, [sampleWaybill(), { ...sampleWaybill(), waybillNo: 'X2' }]);
    const ids = (await keyStore.list()).map((k) => k.id).sort();
    // The waybill's indexes read contact and identity fields: one index key each for the month.
    expect(ids).toEqual(['address/2025-03/1', 'contact-index/2025-03/1', 'contact/2025-03/1', 'identity-index/2025-03/1', 'identity/2025-03/1', 'note/2025-03/1']);
  });

  it('sealMany asks the keyring for the integrity secret version once per batch, and writes what seal writes', async () => {
    const material = generateLocalKeyMaterial();
    const keyring = new LocalKeyring(material);
    let asked = 0;
    const counting = new Proxy(keyring, {
      get(target, p) {
        const v = Reflect.get(target, p, target) as unknown;
        if (p === 'secretVersions') {
          return (name: Parameters<LocalKeyring['secretVersions']>[0]) => {
            asked++;
            return target.secretVersions(name);
          };
        }
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const sealer = createSealer({ keyring: counting, keyStore: new MemoryKeyStore(), guard: 'allow-all' });
    const records = Array.from({ length: 10 }, (_, i) => ({ ...sampleWaybill(), waybillNo: `B${i}` }));
    await sealer.seal(waybill, records[0]!);
    const perRecord = asked;
    asked = 0;
    const sealed = await sealer.sealMany(waybill, records);
    // The integrity version: asked once for the whole batch, not once per record (no index secret is asked for).
    expect(perRecord).toBe(1);
    expect(asked).toBe(1);
    const single = await sealer.seal(waybill, records[3]!);
    expect(sealed[3]!.receiver.mobile?.tok).toEqual(single.receiver.mobile?.tok);
    const head = (r: object) => String((r as { $tag?: string }).$tag).split('.').slice(0, 3);
    expect(head(sealed[3]!)).toEqual(head(single));
    for (const [i, s] of sealed.entries()) {
      expect(await sealer.verify(waybill, s)).toEqual({ ok: true });
      expect((await sealer.open(waybill, s, access)).record).toEqual(records[i]);
    }
  });

  it('AES-GCM moves to a new data key generation at the message cap, and every record still opens', async () => {
    const { sealer, keyStore } = freshSealer({ suite: 'aes-256-gcm', messageCap: 10 });
    const records = Array.from({ length: 6 }, (_, i) => ({ ...sampleWaybill(), waybillNo: `W${i}` }));
    const sealed = await sealer.sealMany(waybill, records);
    const contact = (await keyStore.list({ keyClass: 'contact' })).map((k) => k.generation).sort();
    // 5 contact fields per record, cap 10: two records per generation.
    expect(contact).toEqual([1, 2, 3]);
    for (const [i, s] of sealed.entries()) expect((await sealer.open(waybill, s, access)).record).toEqual(records[i]);
  });

  it('two sealers racing for the same scope end with one data key that both use', async () => {
    const material = generateLocalKeyMaterial();
    const keyStore = new MemoryKeyStore();
    const a = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });
    const b = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });
    const [sa, sb] = await Promise.all([a.seal(waybill, sampleWaybill()), b.seal(waybill, sampleWaybill())]);
    expect((await keyStore.list({ keyClass: 'contact' })).length).toBe(1);
    await expect(b.open(waybill, sa, access)).resolves.toBeDefined();
    await expect(a.open(waybill, sb, access)).resolves.toBeDefined();
  });

  it('refuses work after close()', async () => {
    const { sealer } = freshSealer();
    sealer.close();
    await expect(sealer.seal(waybill, sampleWaybill())).rejects.toThrow(KeyError);
  });
});

describe('validation', () => {
  it('names the field path and reason, never the value', async () => {
    const { sealer } = freshSealer();
    const bad = { ...sampleWaybill(), sender: { ...sampleWaybill().sender, mobile: '12345' } };
    const err = await sealer.seal(waybill, bad).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.path).toBe('sender.mobile');
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain('12345');
  });

  it('rejects missing fields, wrong types and unknown fields', async () => {
    const { sealer } = freshSealer();
    const { weightGrams: _w, ...noWeight } = sampleWaybill();
    await expect(sealer.seal(waybill, noWeight as never)).rejects.toMatchObject({ path: 'weightGrams', reason: 'required' });
    await expect(sealer.seal(waybill, { ...sampleWaybill(), weightGrams: '12' } as never)).rejects.toMatchObject({ reason: 'expected_number' });
    await expect(sealer.seal(waybill, { ...sampleWaybill(), phone2: '13800138000' } as never)).rejects.toMatchObject({
      path: 'phone2',
      reason: 'unknown_field',
    });
    await expect(sealer.seal(waybill, { ...sampleWaybill(), createdAt: 'yesterday' })).rejects.toMatchObject({ reason: 'expected_date' });
  });

  it('rejects already-masked input even when lenient', async () => {
    const { sealer } = freshSealer({ lenient: true });
    const masked = { ...sampleWaybill(), sender: { ...sampleWaybill().sender, mobile: '138****5678' } };
    await expect(sealer.seal(waybill, masked)).rejects.toMatchObject({ path: 'sender.mobile', reason: 'already_masked' });
  });

  it('lenient mode seals invalid values and masks every digit and letter', async () => {
    const { sealer } = freshSealer({ lenient: true });
    const input = { ...sampleWaybill(), sender: { ...sampleWaybill().sender, mobile: '12345' } };
    const sealed = await sealer.seal(waybill, input);
    expect(mask(waybill, sealed, 'screen').sender.mobile).toBe('*****');
    expect((await sealer.open(waybill, sealed, access)).record.sender.mobile).toBe('12345');
  });
});

describe('no plaintext in sealed output', () => {
  it('serialised sealed records contain no protected value', async () => {
    const { sealer } = freshSealer();
    const input = sampleWaybill();
    const json = JSON.stringify(await sealer.seal(waybill, input));
    for (const secret of ['张三', '欧阳娜娜', '13812345678', '11010519491231002X', '科技园路1号3栋2单元501室', '文一西路969号5-2-301', '请放门口']) {
      expect(json).not.toContain(secret);
    }
  });
});
