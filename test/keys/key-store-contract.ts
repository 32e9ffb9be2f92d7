/**
 * The contract every KeyStore implementation must meet. Each store's test file calls
 * `keyStoreContract(name, factory)`; new stores (SQL, KMS-backed …) reuse it unchanged.
 */
import { describe, expect, it } from 'vitest';
import type { DataKeyRecord, KeyStore } from '../../src/index.js';

export const record = (id: string, wrapped = `w-${id}`): DataKeyRecord => {
  const [keyClass, scope, generation] = id.split('/') as [string, string, string];
  return { id, keyClass, scope, generation: Number(generation), suite: 'xchacha20-poly1305', kekId: 'local:v1:contact', wrapped, createdAt: '2025-01-01T00:00:00.000Z' };
};

export function keyStoreContract(name: string, make: () => Promise<KeyStore>): void {
  describe(`KeyStore contract: ${name}`, () => {
    it('get returns what putIfAbsent stored, undefined for unknown ids', async () => {
      const store = await make();
      expect(await store.get('contact/2025-01/1')).toBeUndefined();
      const r = record('contact/2025-01/1');
      expect(await store.putIfAbsent(r)).toEqual(r);
      expect(await store.get(r.id)).toEqual(r);
    });

    it('putIfAbsent keeps the first record and returns it to later writers', async () => {
      const store = await make();
      const first = record('contact/2025-01/1', 'first');
      await store.putIfAbsent(first);
      expect(await store.putIfAbsent(record('contact/2025-01/1', 'second'))).toEqual(first);
      expect((await store.get(first.id))?.wrapped).toBe('first');
    });

    it('concurrent putIfAbsent of one id ends with exactly one record that every writer sees', async () => {
      const store = await make();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.putIfAbsent(record('address/2025-02/1', `w${i}`))));
      const stored = await store.get('address/2025-02/1');
      expect(results.every((r) => r.wrapped === stored?.wrapped)).toBe(true);
      expect((await store.list({ keyClass: 'address' })).length).toBe(1);
    });

    it('list filters by key class and scope', async () => {
      const store = await make();
      for (const id of ['contact/2025-01/1', 'contact/2025-02/1', 'address/2025-01/1']) await store.putIfAbsent(record(id));
      expect((await store.list()).length).toBe(3);
      expect((await store.list({ keyClass: 'contact' })).map((r) => r.id).sort()).toEqual(['contact/2025-01/1', 'contact/2025-02/1']);
      expect((await store.list({ scope: '2025-01' })).map((r) => r.id).sort()).toEqual(['address/2025-01/1', 'contact/2025-01/1']);
      expect((await store.list({ keyClass: 'address', scope: '2025-02' })).length).toBe(0);
    });

    it('replace is a compare-and-swap on the stored version', async () => {
      const store = await make();
      const r = record('contact/2025-01/1');
      await store.putIfAbsent(r);
      const next = { ...r, kekId: 'local:v2:contact', wrapped: 'rewrapped' };
      expect(await store.replace(r, next)).toBe(true);
      expect(await store.get(r.id)).toEqual(next);
      // A writer holding the old version loses.
      expect(await store.replace(r, { ...r, wrapped: 'stale' })).toBe(false);
      expect((await store.get(r.id))?.wrapped).toBe('rewrapped');
      expect(await store.replace(record('contact/2099-01/1'), record('contact/2099-01/1'))).toBe(false);
    });

    it('delete removes a record and says whether it existed', async () => {
      const store = await make();
      await store.putIfAbsent(record('note/2025-01/1'));
      expect(await store.delete('note/2025-01/1')).toBe(true);
      expect(await store.delete('note/2025-01/1')).toBe(false);
      expect(await store.get('note/2025-01/1')).toBeUndefined();
    });
  });
}
