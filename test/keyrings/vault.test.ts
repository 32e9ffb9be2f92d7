/**
 * VaultTransitKeyring against a local fake of the Transit HTTP API (test/keyrings/fakes/vault.ts).
 * No real Vault or OpenBao can run on this machine: these tests check our side of the documented
 * protocol (paths, headers, bodies, version prefixes, error codes, retries), not Vault itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  assertKekUnused,
  createSealer,
  generateLocalKeyMaterial,
  KeyError,
  LocalKeyring,
  MemoryKeyStore,
  rewrapDataKeys,
  withIndexClasses,
} from '../../src/index.js';
import { VaultTransitKeyring, type VaultTransitKeyringOptions } from '../../src/vault.js';
import { startFakeVault, type FakeVault } from './fakes/vault.js';
import { ctx, injectedDataKeyContract, keyringContract, tinySchema } from './keyring-contract.js';

const CLASSES = withIndexClasses(['contact', 'address']);
let vault: FakeVault;
let nsVault: FakeVault;
const noSleep = async () => undefined;
const opts = (v: FakeVault, over: Partial<VaultTransitKeyringOptions> = {}): VaultTransitKeyringOptions => ({
  address: v.url,
  token: v.token,
  keyClasses: CLASSES,
  sleep: noSleep,
  ...over,
});

beforeAll(async () => {
  vault = await startFakeVault();
  nsVault = await startFakeVault({ namespace: 'logistics/waybills', mount: 'kek' });
});
afterAll(async () => {
  await vault.close();
  await nsVault.close();
});

let n = 0;
keyringContract('VaultTransitKeyring (fake Transit API)', async () => {
  const prefix = `c${++n}`;
  // Vault holds the KEKs; the named secrets (record tags, indexes) come from a local source.
  const secrets = new LocalKeyring(generateLocalKeyMaterial());
  const keyring = await VaultTransitKeyring.createKeys(opts(vault, { keyName: (c) => `${prefix}-${c}`, secrets }));
  return { keyring, classes: CLASSES };
});

describe('VaultTransitKeyring pins its Transit keys', () => {
  // Another Transit key in the same mount (the attacker's, usable with our token): refused by name.
  injectedDataKeyContract('VaultTransitKeyring (fake Transit API)', async () => {
    const prefix = `pin${++n}`;
    const keyring = await VaultTransitKeyring.createKeys(opts(vault, { keyName: (c) => `${prefix}-${c}`, secrets: new LocalKeyring(generateLocalKeyMaterial()) }));
    const theirs = await VaultTransitKeyring.createKeys(opts(vault, { keyName: (c) => `${prefix}-attacker-${c}` }));
    return { keyring, attackerWrap: (key, c) => theirs.wrap(key, c) };
  });
});

describe('VaultTransitKeyring', () => {
  it('sends token and namespace headers, uses the mount, and carries key versions in kekId and ciphertext', async () => {
    const keyring = await VaultTransitKeyring.createKeys(opts(nsVault, { namespace: 'logistics/waybills', mount: 'kek' }));
    const w = await keyring.wrap(new Uint8Array(32).fill(1), ctx());
    expect(w.kekId).toBe('vault:kek/waybill-seal-contact:v1');
    expect(w.wrapped).toMatch(/^vault:v1:[A-Za-z0-9+/=]+$/);
    const req = nsVault.requests.at(-1)!;
    expect(req.path).toBe('/v1/kek/encrypt/waybill-seal-contact');
    expect(req.headers['x-vault-token']).toBe(nsVault.token);
    expect(req.headers['x-vault-namespace']).toBe('logistics/waybills');
    const body = JSON.parse(req.body);
    expect(Object.keys(body).sort()).toEqual(['context', 'plaintext']);
    // Without the namespace the same token is refused (403), with no retry.
    await expect(VaultTransitKeyring.connect(opts(nsVault, { mount: 'kek' }))).rejects.toMatchObject({ reason: 'kek_denied', status: 403 });
  });

  it('refuses a bad token with KeyError and does not retry a 4xx', async () => {
    await VaultTransitKeyring.createKeys(opts(vault));
    const before = vault.requests.length;
    await expect(VaultTransitKeyring.connect(opts(vault, { token: 'wrong' }))).rejects.toMatchObject({ reason: 'kek_denied' });
    expect(vault.requests.length - before).toBe(1);
  });

  it('retries 5xx and 429 with back-off, then succeeds', async () => {
    const delays: number[] = [];
    const keyring = await VaultTransitKeyring.connect(opts(vault, { sleep: async (ms) => void delays.push(ms), maxAttempts: 5 }));
    vault.failNext(2, 503);
    const w = await keyring.wrap(new Uint8Array(32).fill(2), ctx());
    vault.failNext(1, 429, '1');
    expect(await keyring.unwrap(w, ctx())).toEqual(new Uint8Array(32).fill(2));
    expect(delays.length).toBe(3);
    expect(delays[1]!).toBeGreaterThan(delays[0]! * 0.9); // grows
    expect(delays[2]).toBe(1000); // Retry-After honoured
  });

  it('gives up after maxAttempts with KeyError kek_unavailable, and retries transport failures', async () => {
    const keyring = await VaultTransitKeyring.connect(opts(vault, { maxAttempts: 3 }));
    vault.failNext(3, 500);
    const before = vault.requests.length;
    await expect(keyring.wrap(new Uint8Array(32).fill(3), ctx())).rejects.toMatchObject({ reason: 'kek_unavailable', status: 500 });
    expect(vault.requests.length - before).toBe(3);
    let calls = 0;
    const flaky = await VaultTransitKeyring.connect(
      opts(vault, {
        fetch: async (url, init) => {
          if (++calls <= 2) throw new TypeError('fetch failed');
          return fetch(url, init);
        },
      }),
    );
    expect(flaky.currentKekId('contact')).toMatch(/^vault:transit\/waybill-seal-contact:v\d+$/);
  });

  it('binds the derivation context: another scope, or a 400 from Vault, is AuthenticationError', async () => {
    const keyring = await VaultTransitKeyring.connect(opts(vault));
    const w = await keyring.wrap(new Uint8Array(32).fill(4), ctx());
    await expect(keyring.unwrap(w, ctx({ scope: '1999-01' }))).rejects.toBeInstanceOf(AuthenticationError);
    // A kekId whose version does not match the ciphertext prefix is refused before any request.
    await expect(keyring.unwrap({ ...w, kekId: w.kekId.replace(/v\d+$/, 'v9') }, ctx())).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('rotates: new wraps carry the new version; rewrap moves old data keys inside Vault (no decrypt)', async () => {
    const secrets = new LocalKeyring(generateLocalKeyMaterial());
    const o = opts(vault, { keyName: (c) => `rot-${c}`, secrets });
    const keyring = await VaultTransitKeyring.createKeys(o);
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all' });
    const plain = Array.from({ length: 40 }, (_, i) => ({ id: `V${i}`, createdAt: `2025-${String(1 + (i % 4)).padStart(2, '0')}-02T00:00:00Z`, name: '赵六' }));
    const sealed = [];
    for (const p of plain) sealed.push(await sealer.seal(tinySchema, p));
    sealer.close();
    expect(vault.count('encrypt')).toBeGreaterThanOrEqual(4);

    const ids = await keyring.rotate();
    expect(ids).toEqual(CLASSES.map((c) => `vault:transit/rot-${c}:v2`));
    const decryptsBefore = vault.count('decrypt');
    const rewrapsBefore = vault.count('rewrap');
    const summary = await rewrapDataKeys(keyring, keyStore);
    expect(summary.rewrapped).toBe(4);
    expect(vault.count('rewrap') - rewrapsBefore).toBe(4);
    expect(vault.count('decrypt') - decryptsBefore).toBe(0);
    for (const r of await keyStore.list()) expect(r.wrapped.startsWith('vault:v2:')).toBe(true);
    await assertKekUnused(keyStore, ['vault:transit/rot-contact:v1']);

    // Retire v1 in Vault (min_decryption_version); everything still opens under v2.
    await keyring.setMinDecryptionVersion('contact', 2);
    const reader = createSealer({ keyring: await VaultTransitKeyring.connect(o), keyStore, guard: 'allow-all' });
    for (let i = 0; i < plain.length; i++) expect((await reader.open(tinySchema, sealed[i]!, { principal: 'v', purpose: 't', reveal: 'plain' })).record).toEqual(plain[i]);
  });

  it('reports a version below min_decryption_version as KeyError kek_retired', async () => {
    const keyring = await VaultTransitKeyring.createKeys(opts(vault, { keyName: (c) => `old-${c}` }));
    const w = await keyring.wrap(new Uint8Array(32).fill(6), ctx());
    await keyring.rotate();
    await keyring.setMinDecryptionVersion('contact', 2);
    await expect(keyring.unwrap(w, ctx())).rejects.toMatchObject({ reason: 'kek_retired' });
  });

  it('refuses Transit keys that are not derived (no per-context binding)', async () => {
    const v = await startFakeVault();
    try {
      await fetch(`${v.url}/v1/transit/keys/waybill-seal-contact`, { method: 'POST', headers: { 'X-Vault-Token': v.token }, body: '{}' });
      await expect(VaultTransitKeyring.connect({ address: v.url, token: v.token, keyClasses: ['contact'] })).rejects.toMatchObject({ reason: 'vault_key_not_derived' });
    } finally {
      await v.close();
    }
  });

  it('takes the token from a function (renewed tokens)', async () => {
    let asked = 0;
    const keyring = await VaultTransitKeyring.connect(opts(vault, { token: async () => (asked++, vault.token) }));
    await keyring.wrap(new Uint8Array(32).fill(7), ctx());
    expect(asked).toBeGreaterThanOrEqual(3);
    expect(() => keyring.currentKekId('contact')).not.toThrow();
    await expect(keyring.wrap(new Uint8Array(32), ctx({ keyClass: 'note', dataKeyId: 'note/2025-03/1' }))).rejects.toBeInstanceOf(KeyError);
  });
});
