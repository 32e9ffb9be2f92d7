/**
 * Pkcs11Keyring against a real SoftHSM2 token (provisioned by test/global-setup.ts or .ci/run).
 */
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryKeyStore,
  rewrapDataKeys,
  waybill,
  withIndexClasses,
} from '../../src/index.js';
import { Pkcs11Keyring } from '../../src/pkcs11.js';
import { dataKeyIds, waybills } from '../rotation/fixtures.js';
import { ctx, injectedDataKeyContract, keyringContract } from './keyring-contract.js';
import { needHsm, type HsmEnv } from './native.js';

const hsm = needHsm();
const CLASSES = withIndexClasses(['contact', 'address', 'identity', 'note']);
const opened: Pkcs11Keyring[] = [];
const secrets = new LocalKeyring(generateLocalKeyMaterial());
let n = 0;

async function open(env: HsmEnv, labelPrefix: string): Promise<Pkcs11Keyring> {
  // The token holds KEKs only; blind-index secrets come from elsewhere (here: local material).
  const k = await Pkcs11Keyring.open({ module: env.module, tokenLabel: env.tokenLabel, pin: env.pin, labelPrefix, secrets });
  opened.push(k);
  return k;
}

/** The test token through pkcs11js directly, beside the keyring (which has initialised the module already). */
function rawToken(env: HsmEnv) {
  const pkcs11js = createRequire(import.meta.url)('pkcs11js') as typeof import('pkcs11js');
  const p = new pkcs11js.PKCS11();
  p.load(env.module);
  try {
    p.C_Initialize();
  } catch {
    // already initialised by the keyring in this process
  }
  const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === env.tokenLabel)!;
  return { pkcs11js, p, slot };
}

afterAll(() => {
  for (const k of opened) k.close();
});

describe.skipIf(hsm.skip !== undefined)('Pkcs11Keyring on SoftHSM2', () => {
  const env = hsm.env!;

  // First: once any session of this process is logged in, the token does not check the PIN again.
  it('refuses a wrong PIN and an unknown token with KeyError', async () => {
    await expect(Pkcs11Keyring.open({ module: env.module, tokenLabel: env.tokenLabel, pin: '0000' })).rejects.toMatchObject({ reason: 'hsm_login' });
    await expect(Pkcs11Keyring.open({ module: env.module, tokenLabel: 'no-such-token', pin: env.pin })).rejects.toMatchObject({ reason: 'hsm_unavailable' });
  });

  keyringContract('Pkcs11Keyring (SoftHSM2)', async () => {
    const keyring = await open(env, `contract${++n}`);
    await keyring.generateKeks(CLASSES);
    return { keyring, classes: CLASSES };
  });

  // Another application's KEK in the same token (same PIN, usable by our session): refused by label.
  injectedDataKeyContract('Pkcs11Keyring (SoftHSM2)', async () => {
    const keyring = await open(env, `pinned${++n}`);
    await keyring.generateKeks(CLASSES);
    const theirs = await open(env, `other-app${n}`);
    await theirs.generateKeks(['contact']);
    return { keyring, attackerWrap: (key, c) => theirs.wrap(key, c) };
  });

  it('keeps the KEK inside the token: sensitive, not extractable, found by label', async () => {
    const keyring = await open(env, 'extract');
    const [id] = await keyring.generateKeks(['contact']);
    expect(id).toBe('pkcs11:extract:contact:v1');
    expect(keyring.keks()).toEqual([{ kekId: id, label: 'extract:contact:v1', keyClass: 'contact', version: 1 }]);

    const { pkcs11js, p, slot } = rawToken(env);
    const s = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    try {
      p.C_FindObjectsInit(s, [{ type: pkcs11js.CKA_LABEL, value: 'extract:contact:v1' }]);
      const [h] = p.C_FindObjects(s, 2);
      p.C_FindObjectsFinal(s);
      expect(h).toBeDefined();
      const attrs = p.C_GetAttributeValue(s, h!, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_TOKEN }]);
      expect(attrs.map((a) => (a.value as Buffer)[0])).toEqual([1, 0, 1]);
      expect(() => p.C_GetAttributeValue(s, h!, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    } finally {
      p.C_CloseSession(s);
    }
  });

  it('maps every token failure on unwrap to AuthenticationError (SoftHSM says CKR_GENERAL_ERROR)', async () => {
    const keyring = await open(env, 'tamper');
    await keyring.generateKeks(['contact']);
    const w = await keyring.wrap(new Uint8Array(32).fill(5), ctx());
    const raw = Buffer.from(w.wrapped, 'base64url');
    for (const i of [0, 11, 12, 30, raw.length - 1]) {
      const t = Buffer.from(raw);
      t[i]! ^= 0x01;
      await expect(keyring.unwrap({ ...w, wrapped: t.toString('base64url') }, ctx())).rejects.toBeInstanceOf(AuthenticationError);
    }
    await expect(keyring.unwrap({ ...w, wrapped: raw.subarray(0, 40).toString('base64url') }, ctx())).rejects.toBeInstanceOf(AuthenticationError);
    // The session is still usable afterwards.
    expect(await keyring.unwrap(w, ctx())).toEqual(new Uint8Array(32).fill(5));
  });

  it('end to end: token KEKs → seal 10,000 waybills → rotate → rewrap → destroy v1 → a fresh instance opens all', async () => {
    const keyring = await open(env, 'e2e');
    await keyring.generateKeks(CLASSES);
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all' });
    const plain = waybills(10_000, 3);
    const sealed = [];
    for (const p of plain) sealed.push(await sealer.seal(waybill, p as never));
    sealer.close();
    const dataKeys = await keyStore.list();
    // 3 months × (the 4 key classes a waybill uses + its 2 indexed classes' index keys): one HSM call per key, not per record.
    expect(dataKeys.length).toBe(18);
    expect(keyring.calls).toBe(8 + 18); // 8 KEKs generated + 18 wraps

    const v2 = await keyring.rotate();
    expect([...v2].sort()).toEqual(CLASSES.map((c) => `pkcs11:e2e:${c}:v2`).sort());
    expect(keyring.currentKekId('contact')).toBe('pkcs11:e2e:contact:v2');
    // v1 cannot go while data keys are wrapped under it.
    await expect(keyring.destroyVersion(1, keyStore)).rejects.toMatchObject({ reason: 'kek_in_use' });
    const callsBefore = keyring.calls;
    const summary = await rewrapDataKeys(keyring, keyStore);
    expect(summary).toMatchObject({ scanned: 18, rewrapped: 18, alreadyCurrent: 0 });
    expect(keyring.calls - callsBefore).toBe(54); // unwrap + wrap + verify per data key
    expect((await keyStore.list()).every((r) => r.kekId.endsWith(':v2'))).toBe(true);
    expect(await keyring.destroyVersion(1, keyStore)).toHaveLength(8);
    await expect(keyring.destroyVersion(2, keyStore)).rejects.toMatchObject({ reason: 'kek_current' });

    const fresh = await open(env, 'e2e');
    expect(fresh.keks().map((k) => k.version)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    const reader = createSealer({ keyring: fresh, keyStore, guard: 'allow-all' });
    for (let i = 0; i < sealed.length; i++) {
      const { record } = await reader.open(waybill, sealed[i]!, { principal: 'hsm-test', purpose: 'verify', reveal: 'plain' });
      expect(record).toEqual(plain[i]);
    }
    expect(fresh.calls).toBe(12);
    reader.close();
    expect(new Set(sealed.flatMap(dataKeyIds)).size).toBe(12);
  }, 180_000);

  it('re-opens a lost session (all sessions closed under it, which also logs out) and goes on', async () => {
    const keyring = await open(env, 'session');
    await keyring.generateKeks(['contact']);
    const w = await keyring.wrap(new Uint8Array(32).fill(8), ctx());
    const { p, slot } = rawToken(env);
    p.C_CloseAllSessions(slot);
    expect(await keyring.unwrap(w, ctx())).toEqual(new Uint8Array(32).fill(8));
    expect(keyring.reconnects).toBe(1); // the keyring noticed and opened (and logged into) a new session
    expect(await keyring.unwrap(await keyring.wrap(new Uint8Array(32).fill(9), ctx()), ctx())).toEqual(new Uint8Array(32).fill(9));
  });

  it('finds KEKs another instance created (rotation elsewhere) on the next unwrap', async () => {
    const a = await open(env, 'shared');
    await a.generateKeks(['contact']);
    const b = await open(env, 'shared');
    await a.rotate();
    const w = await a.wrap(new Uint8Array(32).fill(2), ctx());
    expect(w.kekId).toBe('pkcs11:shared:contact:v2');
    expect(b.currentKekId('contact')).toBe('pkcs11:shared:contact:v1');
    expect(await b.unwrap(w, ctx())).toEqual(new Uint8Array(32).fill(2));
    b.refresh();
    expect(b.currentKekId('contact')).toBe('pkcs11:shared:contact:v2');
  });

});
