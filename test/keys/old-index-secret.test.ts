/**
 * Attack (R13d M2): a key file written before per-month index keys still holds `secrets.index`. That
 * secret computes every legacy `<v>.…` token, so with a record's mask it recovers the mobile. Loading
 * the file (loadKeyFile, keyringFromEnv) must not decode it into the process, nor hand it out; the
 * file's records still open, and keyringFromEnv tells container deployments to migrate.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSealer, defineSchema, LocalKeyring, MemoryKeyStore, newKeyFile, s, type KeyFile } from '../../src/index.js';
import { keyringFromEnv, loadKeyFile } from '../../src/node.js';
import { toBase64Url } from '../../src/crypto/bytes.js';
import { legacySealed } from '../search/legacy-tokens.js';

const people = defineSchema('people', 1, { id: s.string(), createdAt: s.date(), mobile: s.mobile() }, { recordId: 'id', indexes: { mobile: { field: 'mobile', bits: 32 } } });
const secret = randomBytes(32);
const file = newKeyFile();
const old: KeyFile = { ...file, secrets: { ...file.secrets, index: [{ version: 1, key: toBase64Url(secret) }] } };
let dir: string;
let path: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-old-index-'));
  path = join(dir, 'keys.json');
  await writeFile(path, JSON.stringify(old), { mode: 0o600 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("an old key file's index secret (R13d M2)", () => {
  it('loadKeyFile: keyring.secret("index") is refused (index_secret_removed) and lists no version; records still open', async () => {
    const keys = await loadKeyFile(path);
    expect(keys.indexNotice).toMatch(/drop-index-secret --keys/);
    await expect(keys.keyring.secret('index')).rejects.toMatchObject({ code: 'KEY', reason: 'index_secret_removed' });
    await expect(keys.keyring.secret('index', 1)).rejects.toMatchObject({ reason: 'index_secret_removed' });
    expect(await keys.keyring.secretVersions('index')).toEqual([]);
    // The other secrets still load: a record sealed with the file's keyring (legacy tokens included) opens.
    expect((await keys.keyring.secret('integrity')).length).toBe(32);
    const sealer = createSealer({ keyring: keys.keyring, keyStore: new MemoryKeyStore(), guard: 'allow-all' });
    const legacy = await legacySealed(sealer, people, { id: 'r1', createdAt: '2025-03-05T00:00:00Z', mobile: '13812345678' }, secret);
    const opened = await sealer.open(people, legacy, { principal: 'p', purpose: 'support', fields: ['mobile'], reveal: 'plain' } as never);
    expect(JSON.stringify(opened)).toContain('13812345678');
  });

  it('the secret bytes never reach the keyring (a plain LocalKeyring of the material refuses it too)', async () => {
    await expect(new LocalKeyring(old).secret('index')).rejects.toMatchObject({ reason: 'index_secret_removed' });
  });

  it('keyringFromEnv refuses the secret and warns like the CLI, naming the steps and not the key', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const keyring = keyringFromEnv('WS_KEYS', { WS_KEYS: JSON.stringify(old) });
      await expect(keyring.secret('index')).rejects.toMatchObject({ reason: 'index_secret_removed' });
      expect(warn).toHaveBeenCalledTimes(1);
      const [notice, options] = warn.mock.calls[0]! as [string, { code: string }];
      expect(options.code).toBe('WAYBILL_SEAL_INDEX_KEYS');
      expect(notice).toMatch(/the key file in WS_KEYS: .*drop-index-secret --keys KEYS\.json/);
      expect(notice).not.toContain(toBase64Url(secret));
      warn.mockClear();
      keyringFromEnv('WS_KEYS', { WS_KEYS: JSON.stringify(file) });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});
