/**
 * Attack review of the per-month index keys (issue 13 part 1, review R13b), each test the attack it
 * stops: a running search service must never compute tokens with a key other than the one a month's
 * row names by its id, and one bad index-key row must not stop every search.
 */
import { describe, expect, it } from 'vitest';
import { createSealer, defineSchema, generateLocalKeyMaterial, KEY_CLASSES, LocalKeyring, MemoryKeyStore, s, shred, storedToken } from '../../src/index.js';
import { contextOf } from '../../src/keys/data-keys.js';
import { queryParts } from '../../src/search/engine.js';
import { BlindTokenizer, deriveKey, INDEX_KEY_LABEL, keyInfo } from '../../src/search/tokens.js';

const CLASSES = [...KEY_CLASSES, ...KEY_CLASSES.map((c) => `${c}-index`)];
// 32-bit tokens: a chance match among 10^4 candidates is negligible, so a hit is the attack working.
const people = defineSchema('people', 1, { id: s.string(), createdAt: s.date(), mobile: s.mobile() }, { recordId: 'id', indexes: { mobile: { field: 'mobile', bits: 32 } } });
const SEARCH = { principal: 'svc' } as const;

describe('per-month index keys under attack', () => {
  it('a shredded month whose key id a database writer lets be re-created is not searchable in a running service (derived keys are cached by key, not label)', async () => {
    let t = 0;
    const cache = { ttlMs: 1000, now: () => t };
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const service = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store', cache });
    const victim = await service.seal(people, { id: 'V', createdAt: '2025-03-05T00:00:00Z', mobile: '13912345678' });
    const stored = storedToken(people, victim, 'mobile')!;
    expect(await service.tokensFor(people, 'mobile', '13912345678', SEARCH)).toContain(stored);

    await shred(keyStore, 'contact', '2025-03'); // the retention job, in another process; the service is not told
    t += 5000;
    for (const r of await keyStore.list({ scope: '2025-03' })) await keyStore.delete(r.id); // the tombstones deleted
    const other = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    await other.seal(people, { id: 'L', createdAt: '2025-03-28T00:00:00Z', mobile: '13700000000' }); // contact-index/2025-03/1 again, a new key
    expect(await service.tokensFor(people, 'mobile', '13912345678', SEARCH)).not.toContain(stored);
  });

  it('a key-store row relabelled to another month for one query does not make a leaked month key read that month', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const service = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    await service.seal(people, { id: 'M', createdAt: '2025-03-05T00:00:00Z', mobile: '13800000000' });
    await service.tokensFor(people, 'mobile', '13800000000', SEARCH);
    // The attacker holds March's index key (one month leaked) and can write the key-store table.
    const march = (await keyStore.get('contact-index/2025-03/1'))!;
    const marchKey = await keyring.unwrap({ kekId: march.kekId, wrapped: march.wrapped }, contextOf(march));
    const relabelled = { ...march, scope: '2025-05' };
    await keyStore.replace(march, relabelled);
    await service.tokensFor(people, 'mobile', '13800000000', SEARCH);
    await keyStore.replace(relabelled, march);

    const may = await service.seal(people, { id: 'V', createdAt: '2025-05-07T00:00:00Z', mobile: '13912345678' });
    const stored = storedToken(people, may, 'mobile')!;
    const spec = people.indexes.mobile;
    const tokenizer = new BlindTokenizer('hmac-sha256', deriveKey('hmac-sha256', marchKey, keyInfo(INDEX_KEY_LABEL, 'hmac-sha256', people.name, 'mobile', spec.id)), 32, '2025-05~1');
    const hits: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const candidate = `139${String(i).padStart(4, '0')}5678`; // the screen mask 139****5678
      if (tokenizer.token(queryParts(spec, candidate)) === stored) hits.push(candidate);
    }
    expect(hits).toEqual([]);
    const fresh = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    expect(await fresh.tokensFor(people, 'mobile', '13912345678', SEARCH)).toContain(stored);
  });

  it('one injected index-key row that does not unwrap does not stop every search', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const service = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    const r = await service.seal(people, { id: 'A', createdAt: '2025-03-05T00:00:00Z', mobile: '13912345678' });
    const good = (await keyStore.get('contact-index/2025-03/1'))!;
    await keyStore.putIfAbsent({ ...good, id: 'contact-index/2031-01/1', scope: '2031-01' }); // the wrap binds the id: it will not unwrap
    expect(await service.tokensFor(people, 'mobile', '13912345678', SEARCH)).toContain(storedToken(people, r, 'mobile'));
  });
});
