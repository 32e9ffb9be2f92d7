/**
 * npx tsx examples/key-rotation.ts
 *
 * KEK rotation without downtime, on the library API (any Keyring and KeyStore: here a LocalKeyring
 * and a MemoryKeyStore; PgKeyStore, an HSM or a KMS work the same way). For key files the CLI does
 * the same in three commands: `waybill-seal keys rotate`, `keys rewrap`, `keys retire --version 1`.
 *
 *   1. records are sealed; their data keys are wrapped under KEK version 1
 *   2. rotate: KEK version 2 becomes current; sealing goes on (new data keys under v2)
 *   3. retiring v1 now is refused: data keys are still wrapped under it
 *   4. rewrap: every data key is re-wrapped under v2 (compare-and-swap, resumable); no field is
 *      re-encrypted; a second run finds nothing to do
 *   5. retire v1; with a fresh process (no cached keys) everything opens and search still finds
 *   6. an old copy of KEK v1 (a backup, a former admin's laptop) opens nothing any more
 */
import { isDeepStrictEqual } from 'node:util';
import {
  addKekVersion,
  createSealer,
  generateLocalKeyMaterial,
  KeyError,
  kekUsage,
  LocalKeyring,
  MemoryKeyStore,
  removeKekVersion,
  rewrapDataKeys,
  waybill,
  type KeyStore,
  type RotatableKeyMaterial,
  type SealedRecord,
  type WaybillSchema,
} from 'waybill-seal';
import { syntheticWaybills } from 'waybill-seal/testing';
import { runIfMain } from './args.js';

const say = (s = '') => process.stdout.write(`${s}\n`);

/** "local:v1:contact 3, local:v1:address 3, …" */
async function usage(store: KeyStore): Promise<string> {
  const u = await kekUsage(store);
  const byVersion = new Map<string, number>();
  for (const [kek, n] of u) {
    const v = kek.split(':')[1]!;
    byVersion.set(v, (byVersion.get(v) ?? 0) + n);
  }
  return [...byVersion].sort().map(([v, n]) => `${n} data keys under KEK ${v}`).join(', ') || 'no data keys';
}

/** A process that starts now: a new sealer, nothing cached. */
const freshSealer = (material: RotatableKeyMaterial, keyStore: KeyStore) =>
  createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });

async function main(): Promise<void> {
  const keyStore = new MemoryKeyStore();
  const v1: RotatableKeyMaterial = generateLocalKeyMaterial();
  const plain = syntheticWaybills({ count: 240, seed: 20250701 });
  const sealed: SealedRecord<WaybillSchema>[] = [];

  // 1. Normal operation under KEK v1 (data keys per key class and month of createdAt).
  let sealer = freshSealer(v1, keyStore);
  for (const w of plain.slice(0, 200)) sealed.push(await sealer.seal(waybill, w));
  sealer.close();
  say(`1. Sealed ${sealed.length} waybills: ${await usage(keyStore)}.`);

  // 2. Rotate: a new KEK version is current. New data keys are wrapped under it at once.
  const v2 = addKekVersion(v1);
  sealer = freshSealer(v2, keyStore);
  // Waybills of a month that had no data key yet, sealed right after the rotation.
  const later = plain.slice(200).map((w) => ({ ...w, createdAt: '2025-09-15T10:00:00+08:00' }));
  for (const w of later) sealed.push(await sealer.seal(waybill, w));
  plain.splice(200, later.length, ...later);
  sealer.close();
  say(`2. Rotated: KEK v${v2.currentKek} is current. Sealing went on (${later.length} more): ${await usage(keyStore)}.`);

  // 3. Retiring v1 before the rewrap is refused.
  try {
    removeKekVersion(v2, 1, await kekUsage(keyStore));
    say('3. v1 retired while in use (this must never happen)');
    process.exitCode = 1;
  } catch (e) {
    if (!(e instanceof KeyError)) throw e;
    say(`3. Retire v1 now? Refused: ${e.reason} (${e.message}).`);
  }

  // 4. Rewrap every data key under v2. Idempotent: stop it anywhere, run it again.
  const keyring2 = new LocalKeyring(v2);
  const first = await rewrapDataKeys(keyring2, keyStore);
  const again = await rewrapDataKeys(keyring2, keyStore);
  keyring2.close();
  say(`4. Rewrap: ${first.scanned} data keys scanned, ${first.rewrapped} re-wrapped, ${first.alreadyCurrent} already under v2; no field re-encrypted.`);
  say(`   Run again: ${again.rewrapped} re-wrapped, ${again.alreadyCurrent} already current. Now: ${await usage(keyStore)}.`);

  // 5. Retire v1, restart, open everything and search.
  const v3 = removeKekVersion(v2, 1, await kekUsage(keyStore));
  say(`5. Retired KEK v1 (the keyring keeps versions [${v3.keks.map((k) => k.version).join(', ')}], retired: [${(v3.retiredKeks ?? []).map((k) => k.version).join(', ')}]).`);
  sealer = freshSealer(v3, keyStore);
  let same = 0;
  for (const [i, r] of sealed.entries()) {
    const { record } = await sealer.open(waybill, r, { principal: 'rotation-check', purpose: 'verify', reveal: 'plain' });
    if (isDeepStrictEqual(record, plain[i])) same++;
  }
  say(`   A restarted service opened ${same} of ${sealed.length} waybills, every field equal to what was sealed.`);
  const probe = plain[7]!.receiver.mobile!;
  const tokens = await sealer.tokensFor(waybill, 'receiver.mobile', probe, { principal: 'rotation-check' });
  const found = sealed.filter((r) => tokens.includes(r.receiver.mobile?.tok?.['receiver.mobile'] ?? ''));
  say(`   Search is unaffected (KEK rotation leaves the month index keys as they are): ${found.some((r) => r.waybillNo === plain[7]!.waybillNo) ? 'found' : 'NOT found'} by receiver mobile.`);
  sealer.close();
  if (same !== sealed.length) process.exitCode = 1;

  // 6. A copy of the old key material, from before the rotation.
  const stale = freshSealer(v1, keyStore);
  try {
    await stale.open(waybill, sealed[0]!, { principal: 'old-backup', purpose: 'verify' });
    say('6. the retired KEK opened a record (this must never happen)');
    process.exitCode = 1;
  } catch (e) {
    if (!(e instanceof KeyError)) throw e;
    say(`6. An old copy of KEK v1 opens nothing: ${e.name} (${e.reason}). Every data key is wrapped under v2 now.`);
  }
  stale.close();
}

runIfMain(import.meta.url, 'key-rotation', main);
