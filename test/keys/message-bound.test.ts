/**
 * A GCM data key's message bound holds across processes (issue 14). The attack it stops: the cap was
 * counted per sealer instance and restarted at 0 in every process, `--jobs` worker and `forget()`, so
 * a carrier running many instances passed 2^32 random 96-bit nonces under one monthly key. Now each
 * generation of a capped suite's key is reserved (put-if-absent) by one instance and sealed under by
 * it alone. Each instance here has its own key manager and shares only the key store, as separate
 * processes do.
 */
import { describe, expect, it } from 'vitest';
import { parseEnc } from '../../src/format/sealed-field.js';
import { createSealer, generateLocalKeyMaterial, LocalKeyring, MemoryKeyStore, waybill, type SealedRecord } from '../../src/index.js';
import { sampleWaybill } from '../helpers.js';

const CAP = 12;

/** Every ciphertext's data key id in a sealed record. */
function keyIdsOf(r: SealedRecord<typeof waybill>): string[] {
  const ids: string[] = [];
  JSON.stringify(r, (k, v: unknown) => {
    if (k === 'enc' && typeof v === 'string') ids.push(parseEnc(v).dataKeyId);
    return v;
  });
  return ids;
}

describe.each(['aes-256-gcm', 'sm4-gcm'] as const)('%s: no data key encrypts more than its cap, however many instances seal', (suite) => {
  it('16 instances sealing one scope concurrently (and forgetting midway) never share a key; every key stays within the cap', async () => {
    const material = generateLocalKeyMaterial(undefined, suite === 'sm4-gcm' ? { kekAlg: 'sm4-gcm' } : {});
    const keyStore = new MemoryKeyStore();
    const instances = Array.from({ length: 16 }, () => createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all', suite, messageCap: CAP }));
    const usedBy = new Map<string, Set<number>>();
    const count = new Map<string, number>();
    await Promise.all(
      instances.map(async (sealer, i) => {
        for (let n = 0; n < 6; n++) {
          if (n === 3) sealer.forget(); // restarts at 0 in the old code: a new generation now
          const sealed = await Promise.all([0, 1].map((j) => sealer.seal(waybill, { ...sampleWaybill(), waybillNo: `SF${i}x${n}x${j}` })));
          for (const id of sealed.flatMap(keyIdsOf)) {
            usedBy.set(id, (usedBy.get(id) ?? new Set()).add(i));
            count.set(id, (count.get(id) ?? 0) + 1);
          }
        }
      }),
    );
    for (const [id, users] of usedBy) expect([id, users.size]).toEqual([id, 1]);
    for (const [id, n] of count) expect(n, id).toBeLessThanOrEqual(CAP);
    // Every record still opens through any instance (keys are shared for opening, never for sealing).
    const reader = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });
    const one = await instances[5]!.seal(waybill, sampleWaybill());
    await expect(reader.open(waybill, one, { principal: 'p', purpose: 't', reveal: 'plain' })).resolves.toBeDefined();
    for (const s of [...instances, reader]) s.close();
  });

  it('a restarted instance takes a new generation instead of continuing one another instance counted', async () => {
    const material = generateLocalKeyMaterial(undefined, suite === 'sm4-gcm' ? { kekAlg: 'sm4-gcm' } : {});
    const keyStore = new MemoryKeyStore();
    const first = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all', suite });
    const before = new Set(keyIdsOf(await first.seal(waybill, sampleWaybill())));
    first.close();
    const restarted = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all', suite });
    for (const id of keyIdsOf(await restarted.seal(waybill, sampleWaybill()))) expect(before.has(id)).toBe(false);
    restarted.close();
  });
});

describe('xchacha20-poly1305 (the default, 192-bit nonces, no cap) keeps sharing generations', () => {
  it('a second instance continues the newest generation (no key-store growth per process)', async () => {
    const material = generateLocalKeyMaterial();
    const keyStore = new MemoryKeyStore();
    const a = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });
    const b = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });
    expect(keyIdsOf(await b.seal(waybill, sampleWaybill()))).toEqual(keyIdsOf(await a.seal(waybill, sampleWaybill())));
    a.close();
    b.close();
  });
});
