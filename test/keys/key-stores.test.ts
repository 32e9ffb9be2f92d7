import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../../src/index.js';
import { JsonFileKeyStore } from '../../src/node.js';
import { keyStoreContract, record } from './key-store-contract.js';

keyStoreContract('MemoryKeyStore', async () => new MemoryKeyStore());
keyStoreContract('JsonFileKeyStore', async () => new JsonFileKeyStore(join(await mkdtemp(join(tmpdir(), 'ws-ks-')), 'store.json')));

describe('JsonFileKeyStore', () => {
  it('keeps other properties of the file (a key file) and survives two store objects on one file', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'ws-ks-')), 'keys.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, JSON.stringify({ format: 'waybill-seal/keys', keep: 1, dataKeys: [] }));
    const a = new JsonFileKeyStore(path);
    const b = new JsonFileKeyStore(path);
    await Promise.all([a.putIfAbsent(record('contact/2025-01/1')), b.putIfAbsent(record('contact/2025-02/1'))]);
    const doc = JSON.parse(await readFile(path, 'utf8'));
    expect(doc.keep).toBe(1);
    expect(doc.dataKeys.map((r: { id: string }) => r.id).sort()).toEqual(['contact/2025-01/1', 'contact/2025-02/1']);
  });
});
