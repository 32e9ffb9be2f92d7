/**
 * AwsKmsKeyring with the real AWS SDK (@aws-sdk/client-kms) pointed at a local fake of the KMS
 * JSON 1.1 API (test/keyrings/fakes/kms.ts). No real AWS KMS was reachable: these tests check the
 * requests the SDK sends on our behalf and our handling of the documented answers and errors.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  CachingKeyring,
  KekNotAllowedError,
  createSealer,
  defineSchema,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryKeyStore,
  rewrapDataKeys,
  s,
  type SealedRecord,
} from '../../src/index.js';
import { AwsKmsKeyring, encryptionContext } from '../../src/aws-kms.js';
import { startFakeKms, type FakeKms } from './fakes/kms.js';
import { ctx, injectedDataKeyContract, keyringContract, tinySchema } from './keyring-contract.js';

let kms: FakeKms;
const client = () =>
  new KMSClient({
    endpoint: kms.url,
    region: kms.region,
    credentials: { accessKeyId: 'AKIDLOCALFAKE', secretAccessKey: 'local-fake-secret' },
    maxAttempts: 4,
  });
const secrets = new LocalKeyring(generateLocalKeyMaterial());

beforeAll(async () => {
  kms = await startFakeKms();
});
afterAll(async () => {
  await kms.close();
});

async function keyring(extra: { generateDataKeys?: boolean } = {}) {
  const keys = { contact: kms.createKey(), address: kms.createKey(), 'contact-index': kms.createKey() };
  return { keyring: await AwsKmsKeyring.connect({ client: client(), keys, secrets, ...extra }), keys };
}

keyringContract('AwsKmsKeyring (SDK → fake KMS)', async () => ({ keyring: (await keyring()).keyring, classes: ['contact', 'address', 'contact-index'] }));
keyringContract('AwsKmsKeyring with GenerateDataKey (SDK → fake KMS)', async () => ({
  keyring: (await keyring({ generateDataKeys: true })).keyring,
  classes: ['contact', 'address', 'contact-index'],
}));

describe('AwsKmsKeyring pins its KMS keys', () => {
  // The attacker's KMS key is one our credentials can use (in the fake every caller may use every key):
  // before pinning, unwrap decrypted under whatever ARN the row named.
  injectedDataKeyContract('AwsKmsKeyring (SDK → fake KMS)', async () => {
    const { keyring: k } = await keyring();
    const theirs = await AwsKmsKeyring.connect({ client: client(), keys: { contact: kms.createKey() }, secrets });
    return { keyring: k, attackerWrap: (key, c) => theirs.wrap(key, c) };
  });

  it('refuses the unpinned ARN before any KMS request', async () => {
    const { keyring: k } = await keyring();
    const theirs = await AwsKmsKeyring.connect({ client: client(), keys: { contact: kms.createKey() }, secrets });
    const w = await theirs.wrap(new Uint8Array(32).fill(3), ctx());
    const before = kms.requests.length;
    await expect(k.unwrap(w, ctx())).rejects.toBeInstanceOf(KekNotAllowedError);
    await expect(k.rewrap(w, ctx())).rejects.toBeInstanceOf(KekNotAllowedError);
    expect(kms.requests.length).toBe(before);
  });

  it('after a restart with the alias moved, the old key opens only when listed in previousKeys', async () => {
    const first = kms.createKey('alias/ws-pinned');
    const k = await AwsKmsKeyring.connect({ client: client(), keys: { contact: 'alias/ws-pinned' }, secrets });
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring: k, keyStore, guard: 'allow-all' });
    const sealed = await sealer.seal(tinySchema, { id: 'P1', createdAt: '2025-01-09T00:00:00Z', name: '钱七' });
    sealer.close();
    kms.updateAlias('alias/ws-pinned', kms.createKey());
    const access = { principal: 'k', purpose: 't', reveal: 'plain' } as const;

    const restarted = await AwsKmsKeyring.connect({ client: client(), keys: { contact: 'alias/ws-pinned' }, secrets });
    await expect(createSealer({ keyring: restarted, keyStore, guard: 'allow-all' }).open(tinySchema, sealed, access)).rejects.toBeInstanceOf(KekNotAllowedError);
    const listed = await AwsKmsKeyring.connect({ client: client(), keys: { contact: 'alias/ws-pinned' }, previousKeys: { contact: [first] }, secrets });
    expect((await createSealer({ keyring: listed, keyStore, guard: 'allow-all' }).open(tinySchema, sealed, access)).record.name).toBe('钱七');
  });
});

describe('AwsKmsKeyring', () => {
  it('speaks JSON 1.1 and sends the encryption context with key class, scope, generation, suite and id', async () => {
    const { keyring: k, keys } = await keyring();
    const before = kms.requests.length;
    const w = await k.wrap(new Uint8Array(32).fill(1), ctx());
    expect(w.kekId).toBe(`aws-kms:${keys.contact}`);
    const req = kms.requests[before]!;
    expect(req.headers['x-amz-target']).toBe('TrentService.Encrypt');
    expect(req.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(req.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDLOCALFAKE\//);
    const body = JSON.parse(req.body);
    expect(body.KeyId).toBe(keys.contact);
    expect(body.EncryptionContext).toEqual({
      'waybill-seal:key-class': 'contact',
      'waybill-seal:scope': '2025-03',
      'waybill-seal:generation': '1',
      'waybill-seal:suite': 'xchacha20-poly1305',
      'waybill-seal:data-key': 'contact/2025-03/1',
    });
    expect(body.EncryptionContext).toEqual(encryptionContext(ctx()));
    await k.unwrap(w, ctx());
    const dec = kms.bodies('Decrypt').at(-1)!;
    expect(dec['KeyId']).toBe(keys.contact); // decrypt is pinned to the expected key
  });

  it('resolves aliases to ARNs; pointing the alias at a new key + refresh makes it current; ReEncrypt moves data keys', async () => {
    const first = kms.createKey('alias/ws-contact');
    const k = await AwsKmsKeyring.connect({ client: client(), keys: { contact: 'alias/ws-contact' }, secrets });
    expect(k.currentKekId('contact')).toBe(`aws-kms:${first}`);
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring: k, keyStore, guard: 'allow-all' });
    const plain = Array.from({ length: 30 }, (_, i) => ({ id: `A${i}`, createdAt: `2025-${String(1 + (i % 3)).padStart(2, '0')}-09T00:00:00Z`, name: '钱七' }));
    const sealed = [];
    for (const p of plain) sealed.push(await sealer.seal(tinySchema, p));
    sealer.close();

    const second = kms.createKey();
    kms.updateAlias('alias/ws-contact', second);
    await k.refresh();
    expect(k.currentKekId('contact')).toBe(`aws-kms:${second}`);
    const reBefore = kms.count('ReEncrypt');
    const decBefore = kms.count('Decrypt');
    expect((await rewrapDataKeys(k, keyStore)).rewrapped).toBe(3);
    expect(kms.count('ReEncrypt') - reBefore).toBe(3);
    expect(kms.count('Decrypt') - decBefore).toBe(0);
    const re = kms.bodies('ReEncrypt').at(-1)!;
    expect(re['SourceEncryptionContext']).toEqual(re['DestinationEncryptionContext']);
    expect(re['SourceKeyId']).toBe(first);

    // The old key can be disabled now: everything opens under the new one.
    await client().send(new (await import('@aws-sdk/client-kms')).DisableKeyCommand({ KeyId: first }));
    const reader = createSealer({ keyring: k, keyStore, guard: 'allow-all' });
    for (let i = 0; i < plain.length; i++) expect((await reader.open(tinySchema, sealed[i]!, { principal: 'k', purpose: 't', reveal: 'plain' })).record).toEqual(plain[i]);
  });

  it('maps KMS errors: InvalidCiphertext / IncorrectKey → AuthenticationError; Disabled, NotFound → KeyError', async () => {
    const { keyring: k, keys } = await keyring();
    const w = await k.wrap(new Uint8Array(32).fill(2), ctx());
    await expect(k.unwrap(w, ctx({ scope: '2024-12' }))).rejects.toBeInstanceOf(AuthenticationError);
    // Another class's key: pinned per class, refused before KMS is asked.
    await expect(k.unwrap({ ...w, kekId: `aws-kms:${keys.address}` }, ctx())).rejects.toBeInstanceOf(KekNotAllowedError);
    const { DisableKeyCommand } = await import('@aws-sdk/client-kms');
    await client().send(new DisableKeyCommand({ KeyId: keys.contact }));
    await expect(k.unwrap(w, ctx())).rejects.toMatchObject({ reason: 'kek_disabled' });
    await expect(AwsKmsKeyring.connect({ client: client(), keys: { contact: 'alias/none' } })).rejects.toMatchObject({ reason: 'no_kek' });
  });

  it('lets the SDK retry throttling and internal errors', async () => {
    const { keyring: k } = await keyring();
    kms.failNext(2, 'ThrottlingException', 400);
    const before = kms.count('Encrypt');
    await k.wrap(new Uint8Array(32).fill(3), ctx());
    expect(kms.count('Encrypt') - before).toBe(3);
    kms.failNext(4, 'KMSInternalException', 500);
    await expect(k.wrap(new Uint8Array(32).fill(3), ctx())).rejects.toMatchObject({ reason: 'kek_unavailable' });
  });

  it('GenerateDataKey mode: one KMS call per new data key, no Encrypt', async () => {
    const { keyring: k } = await keyring({ generateDataKeys: true });
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring: k, keyStore, guard: 'allow-all' });
    const gen = kms.count('GenerateDataKey');
    const enc = kms.count('Encrypt');
    for (let i = 0; i < 50; i++) await sealer.seal(tinySchema, { id: `G${i}`, createdAt: `2025-0${1 + (i % 5)}-01T00:00:00Z`, name: '孙八' });
    expect(kms.count('GenerateDataKey') - gen).toBe(5);
    expect(kms.count('Encrypt') - enc).toBe(0);
    sealer.close();
  });

  it('call count: 100,000 records sealed over 12 months cost 12 KMS calls; 4 sealers opening all of them share 12 more', async () => {
    const { keyring: k } = await keyring();
    const schema = defineSchema('count', 1, { id: s.string(), createdAt: s.date(), name: s.name() }, { recordId: 'id' });
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring: k, keyStore, guard: 'allow-all' });
    const N = 100_000;
    const callsBefore = k.calls;
    const encBefore = kms.count('Encrypt');
    const sealed: SealedRecord<typeof schema>[] = [];
    for (let i = 0; i < N; i++) {
      sealed.push(await sealer.seal(schema, { id: `C${i}`, createdAt: `2025-${String(1 + (i % 12)).padStart(2, '0')}-15T00:00:00Z`, name: '周九' }));
    }
    sealer.close();
    const sealCalls = k.calls - callsBefore;
    expect(sealCalls).toBe(12);
    expect(kms.count('Encrypt') - encBefore).toBe(12);

    const shared = new CachingKeyring(k, { maxAgeMs: 60_000, maxUses: 1_000 });
    const readers = Array.from({ length: 4 }, () => createSealer({ keyring: shared, keyStore, guard: 'allow-all' }));
    const decBefore = kms.count('Decrypt');
    await Promise.all(
      readers.map(async (r, j) => {
        // Each sealer opens a quarter of the records, across all 12 months.
        for (let i = (j * N) / 4; i < ((j + 1) * N) / 4; i++) await r.open(schema, sealed[i]!, { principal: 'count', purpose: 'verify', reveal: 'plain' });
      }),
    );
    const openCalls = kms.count('Decrypt') - decBefore;
    expect(openCalls).toBe(12);
    expect(shared.stats).toMatchObject({ misses: 12, hits: 36 });
    console.info(`KMS calls: seal ${N} records → ${sealCalls} Encrypt; 4 sealers open ${N} records → ${openCalls} Decrypt`);
    readers.forEach((r) => r.close());
  }, 180_000);
});
