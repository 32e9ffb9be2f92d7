/**
 * The contract every Keyring must meet (like test/keys/key-store-contract.ts for key stores).
 * Each keyring's test file calls `keyringContract(name, factory)`.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  createSealer,
  defineSchema,
  KekNotAllowedError,
  KeyError,
  MemoryKeyStore,
  s,
  WaybillSealError,
  type Keyring,
  type WrapContext,
  type WrappedDataKey,
} from '../../src/index.js';

export const ctx = (over: Partial<WrapContext> = {}): WrapContext => ({
  dataKeyId: 'contact/2025-03/1',
  keyClass: 'contact',
  scope: '2025-03',
  generation: 1,
  suite: 'xchacha20-poly1305',
  ...over,
});

export const tinySchema = defineSchema('tiny', 1, { id: s.string(), createdAt: s.date(), name: s.name(), note: s.text().optional() }, { recordId: 'id' });
/** An indexed schema: its tokens come from per-month index keys of class `contact-index`. */
const indexedSchema = defineSchema('tiny-indexed', 1, { id: s.string(), createdAt: s.date(), mobile: s.mobile() }, { recordId: 'id', indexes: { mobile: { field: 'mobile', bits: 16 } } });

export interface KeyringFixture {
  keyring: Keyring;
  /** Key classes this keyring holds (at least `contact` and `contact-index`). */
  classes: readonly string[];
}

export function keyringContract(name: string, make: () => Promise<KeyringFixture>): void {
  describe(`Keyring contract: ${name}`, () => {
    it('wraps and unwraps a data key; the wrap names the current KEK', async () => {
      const { keyring } = await make();
      const key = new Uint8Array(randomBytes(32));
      const w = await keyring.wrap(key, ctx());
      expect(w.kekId).toBe(keyring.currentKekId('contact'));
      expect(typeof w.wrapped).toBe('string');
      expect(w.wrapped).not.toContain(Buffer.from(key).toString('base64url'));
      expect(await keyring.unwrap(w, ctx())).toEqual(key);
      // Randomised: two wraps of one key differ.
      expect((await keyring.wrap(key, ctx())).wrapped).not.toBe(w.wrapped);
    });

    it('binds the wrapped key to its identity: any other context fails with AuthenticationError', async () => {
      const { keyring } = await make();
      const w = await keyring.wrap(new Uint8Array(randomBytes(32)), ctx());
      for (const other of [
        ctx({ dataKeyId: 'contact/2025-03/2' }),
        ctx({ scope: '2025-04' }),
        ctx({ generation: 2 }),
        ctx({ suite: 'aes-256-gcm' }),
      ]) {
        await expect(keyring.unwrap(w, other)).rejects.toBeInstanceOf(AuthenticationError);
      }
    });

    it('rejects a tampered wrapped key with AuthenticationError', async () => {
      const { keyring } = await make();
      const w = await keyring.wrap(new Uint8Array(randomBytes(32)), ctx());
      const i = Math.floor(w.wrapped.length / 2);
      const flipped = w.wrapped.slice(0, i) + (w.wrapped[i] === 'A' ? 'B' : 'A') + w.wrapped.slice(i + 1);
      await expect(keyring.unwrap({ ...w, wrapped: flipped }, ctx())).rejects.toBeInstanceOf(AuthenticationError);
      await expect(keyring.unwrap({ ...w, wrapped: '' }, ctx())).rejects.toBeInstanceOf(WaybillSealError);
    });

    it('refuses a wrapped key presented for another key class', async () => {
      const { keyring, classes } = await make();
      const other = classes.find((c) => c !== 'contact');
      const w = await keyring.wrap(new Uint8Array(randomBytes(32)), ctx());
      if (other) {
        await expect(keyring.unwrap(w, ctx({ keyClass: other, dataKeyId: `${other}/2025-03/1` }))).rejects.toBeInstanceOf(WaybillSealError);
      }
      expect(keyring.currentKekId('no-such-class')).toBeUndefined();
      await expect(keyring.wrap(new Uint8Array(32).fill(1), ctx({ keyClass: 'no-such-class', dataKeyId: 'no-such-class/2025-03/1' }))).rejects.toBeInstanceOf(KeyError);
    });

    it('answers a foreign KEK id with a typed error, never a key', async () => {
      const { keyring } = await make();
      const w = await keyring.wrap(new Uint8Array(randomBytes(32)), ctx());
      await expect(keyring.unwrap({ kekId: 'other-authority:v1:contact', wrapped: w.wrapped }, ctx())).rejects.toBeInstanceOf(WaybillSealError);
    });

    it('handles concurrent wraps and unwraps', async () => {
      const { keyring } = await make();
      const keys = Array.from({ length: 24 }, () => new Uint8Array(randomBytes(32)));
      const wrapped = await Promise.all(keys.map((k, i) => keyring.wrap(k, ctx({ dataKeyId: `contact/2025-03/${i + 1}`, generation: i + 1 }))));
      const back = await Promise.all(wrapped.map((w, i) => keyring.unwrap(w, ctx({ dataKeyId: `contact/2025-03/${i + 1}`, generation: i + 1 }))));
      expect(back).toEqual(keys);
    });

    it('rewrap, when offered, yields a wrapping of the same key under the current KEK', async () => {
      const { keyring } = await make();
      if (!keyring.rewrap) return;
      const key = new Uint8Array(randomBytes(32));
      const w = await keyring.wrap(key, ctx());
      const r = await keyring.rewrap(w, ctx());
      expect(r.kekId).toBe(keyring.currentKekId('contact'));
      expect(await keyring.unwrap(r, ctx())).toEqual(key);
    });

    it('serves a sealer: records sealed with it open through a fresh sealer', async () => {
      const { keyring, classes } = await make();
      const keyStore = new MemoryKeyStore();
      const a = createSealer({ keyring, keyStore, guard: 'allow-all' });
      const plain = Array.from({ length: 30 }, (_, i) => ({ id: `R${i}`, createdAt: `2025-0${1 + (i % 3)}-15T00:00:00Z`, name: '张三', ...(classes.includes('note') ? { note: `n${i}` } : {}) }));
      const sealed = [];
      for (const p of plain) sealed.push(await a.seal(tinySchema, p));
      a.close();
      const b = createSealer({ keyring, keyStore, guard: 'allow-all' });
      for (let i = 0; i < plain.length; i++) {
        expect((await b.open(tinySchema, sealed[i]!, { principal: 't', purpose: 'contract', reveal: 'plain' })).record).toEqual(plain[i]);
      }
      b.close();
      for (const r of await keyStore.list()) expect(r.kekId).toBe(keyring.currentKekId(r.keyClass));
    });

    it('wraps the index keys of search tokens under its -index KEKs: sealed tokens are found by a fresh sealer, one token per month', async () => {
      const { keyring } = await make();
      expect(keyring.currentKekId('contact-index')).toBeDefined();
      const keyStore = new MemoryKeyStore();
      const a = createSealer({ keyring, keyStore, guard: 'allow-all' });
      const sealed = [];
      for (const month of ['2025-01', '2025-02']) sealed.push(await a.seal(indexedSchema, { id: month, createdAt: `${month}-15T00:00:00Z`, mobile: '13812345678' }));
      a.close();
      const rows = (await keyStore.list()).filter((r) => r.keyClass === 'contact-index');
      expect(rows.map((r) => r.id).sort()).toEqual(['contact-index/2025-01/1', 'contact-index/2025-02/1']);
      for (const r of rows) expect(r.kekId).toBe(keyring.currentKekId('contact-index'));
      const b = createSealer({ keyring, keyStore, guard: 'allow-all' });
      expect(await b.tokensFor(indexedSchema, 'mobile', '138 1234 5678', { principal: 'contract' })).toEqual(sealed.map((r) => r.mobile.tok!['mobile']).reverse());
      b.close();
    });
  });
}

/**
 * The injected-data-key attack (issue 14), for any keyring: a database writer inserts the next
 * generation of a scope's data key, wrapped under a KEK they control (`attackerWrap`), which our
 * credentials may even be able to use. After a restart the sealer must refuse that row (a typed
 * error naming it) rather than seal new records under a key the attacker knows, and `unwrap` must
 * refuse the KEK id before asking the key authority.
 */
export function injectedDataKeyContract(name: string, make: () => Promise<{ keyring: Keyring; attackerWrap: (key: Uint8Array, ctx: WrapContext) => Promise<WrappedDataKey> }>): void {
  it(`${name}: a data key row wrapped under a KEK the configuration does not name is refused; no record is sealed under it`, async () => {
    const { keyring, attackerWrap } = await make();
    const keyStore = new MemoryKeyStore();
    const record = (i: number) => ({ id: `R${i}`, createdAt: '2025-01-15T00:00:00Z', name: '张三' });
    const a = createSealer({ keyring, keyStore, guard: 'allow-all' });
    await a.seal(tinySchema, record(0));
    a.close();

    const attackerKey = new Uint8Array(randomBytes(32));
    const c = ctx({ dataKeyId: 'contact/2025-01/2', scope: '2025-01', generation: 2 });
    const w = await attackerWrap(attackerKey, c);
    expect(w.kekId).not.toBe(keyring.currentKekId('contact'));
    await keyStore.putIfAbsent({ id: c.dataKeyId, keyClass: 'contact', scope: '2025-01', generation: 2, suite: c.suite, ...w, createdAt: new Date().toISOString() });

    await expect(keyring.unwrap(w, c)).rejects.toBeInstanceOf(KekNotAllowedError);
    const error = await keyring.unwrap(w, c).catch((e: unknown) => e as KekNotAllowedError);
    expect(error).toMatchObject({ code: 'KEY', reason: 'kek_not_allowed', kekId: w.kekId, dataKeyId: c.dataKeyId });

    // Restart: the newest generation is the injected one; it is refused, nothing is sealed.
    const b = createSealer({ keyring, keyStore, guard: 'allow-all' });
    await expect(b.seal(tinySchema, record(1))).rejects.toBeInstanceOf(KekNotAllowedError);
    b.close();
  });
}
