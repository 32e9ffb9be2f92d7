/**
 * npx tsx examples/pickup-station.ts
 *
 * A courier pickup station (快递驿站) finds a customer's parcels by the last four digits of their
 * phone number, the way stations work today ("尾号 4321"), without ever holding a decryption key.
 *
 * - Head office seals the waybills (full keyring). The station receives the sealed records only.
 * - The station terminal holds one secret: the blind-index secret. It turns "4321" into tokens and
 *   looks them up in the stored `receiver.mobile:last4` tokens. Those tokens are 9 bits on purpose
 *   (planned for a station's ~10^4 parcels): each token is shared by about 1/512 of all parcels, so
 *   a leaked token table does not reveal anyone's last four digits.
 * - The candidates are narrowed with the label mask, which prints the last four digits anyway
 *   (GB/T 41833: `*******4321`), and the clerk reads masked names and shelf numbers to the customer.
 * - The terminal cannot open a field: it holds no KEK.
 */
import {
  createSealer,
  generateLocalKeyMaterial,
  KeyError,
  LocalKeyring,
  mask,
  MemoryKeyStore,
  storedToken,
  waybill,
  type LocalKeyMaterial,
  type SealedRecord,
  type WaybillSchema,
} from 'waybill-seal';
import { syntheticWaybills } from 'waybill-seal/testing';
import { runIfMain } from './args.js';

export const STATION = 'HZ-XH-017';
export const PARCELS = 2000;
export const SEED = 20250615;
/** The customer at the counter owns the parcel at this position (and maybe others). */
export const CUSTOMER_PARCEL = 42;
const INDEX = 'receiver.mobile:last4';

const say = (s = '') => process.stdout.write(`${s}\n`);

interface Parcel {
  readonly shelf: string;
  readonly sealed: SealedRecord<WaybillSchema>;
}

/** The trailing visible digits of a phone mask (`*******4321` → `4321`; `***********` → ``). */
const visibleTail = (m: string | undefined) => /(\d*)[^\d*]*$/.exec(m ?? '')?.[1] ?? '';

async function main(): Promise<void> {
  // --- Head office: the full keyring; seals at intake, ships sealed records to the station.
  const material = generateLocalKeyMaterial();
  const keyStore = new MemoryKeyStore(); // wrapped data keys (PgKeyStore in production)
  const hq = createSealer({ keyring: new LocalKeyring(material), keyStore });
  const plain = syntheticWaybills({ count: PARCELS, seed: SEED }).map((w, i) => ({ ...w, routing: { destOutlet: STATION, routeId: `${STATION}-R${(i % 4) + 1}` } }));
  const t0 = performance.now();
  const inventory: Parcel[] = [];
  for (const [i, w] of plain.entries()) {
    inventory.push({ shelf: `${Math.floor(i / 300) + 1}-${String(Math.floor(i / 20) % 15 + 1).padStart(2, '0')}-${(i % 20) + 1}`, sealed: await hq.seal(waybill, w) });
  }
  hq.close();
  say(`Head office sealed ${PARCELS} waybills for pickup station ${STATION} in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);

  // --- The station terminal: the index secret only. No KEK of any key class.
  const stationMaterial: LocalKeyMaterial = {
    keks: [{ version: 1, createdAt: new Date().toISOString(), keys: {} }],
    currentKek: 1,
    secrets: { index: material.secrets!.index! },
  };
  // Even given the wrapped data keys (say, a copy of the key store), it has no KEK to unwrap them.
  const station = createSealer({ keyring: new LocalKeyring(stationMaterial), keyStore, guard: 'allow-all' });

  // Its lookup table: stored token → parcels (built from the sealed records, no key needed).
  const byToken = new Map<string, Parcel[]>();
  for (const p of inventory) {
    const token = storedToken(waybill, p.sealed, INDEX);
    if (token !== undefined) byToken.set(token, [...(byToken.get(token) ?? []), p]);
  }
  say(`Station terminal: index secret only (no KEK); ${byToken.size} distinct last-4 tokens over ${inventory.length} parcels.`);
  say();

  const lookup = async (last4: string) => {
    const tokens = await station.tokensFor(waybill, INDEX, last4);
    const candidates = tokens.flatMap((t) => byToken.get(t) ?? []);
    const confirmed = candidates.filter((p) => {
      const tail = visibleTail(p.sealed.receiver.mobile?.mask['label']);
      const k = Math.min(tail.length, last4.length);
      return k > 0 && tail.slice(-k) === last4.slice(-k);
    });
    return { candidates, confirmed };
  };

  // --- A customer at the counter.
  const last4 = plain[CUSTOMER_PARCEL]!.receiver.mobile!.replace(/\D/g, '').slice(-4);
  say(`A customer says: "尾号 ${last4}" (the last four digits of their phone).`);
  const { candidates, confirmed } = await lookup(last4);
  say(`  token candidates: ${candidates.length} (9-bit tokens: other last-4 values share a token by design)`);
  say(`  confirmed by the label mask's last four digits: ${confirmed.length}`);
  for (const p of confirmed) {
    const label = mask(waybill, p.sealed, 'label');
    say(`    shelf ${p.shelf.padEnd(8)} ${label.waybillNo}  ${label.receiver.mobile ?? ''}  ${label.receiver.name}  (${label.receiver.address.district})`);
  }
  say('  The clerk asks for the name and hands over the parcel; nothing was decrypted.');
  say();

  // --- The terminal cannot open anything.
  try {
    await station.open(waybill, confirmed[0]!.sealed, { principal: 'station-clerk', purpose: 'pickup', fields: ['receiver.mobile'] });
    say('  opened (this must never happen)');
    process.exitCode = 1;
  } catch (e) {
    if (!(e instanceof KeyError)) throw e;
    say(`Opening receiver.mobile at the station, even with the wrapped data keys: refused, ${e.name} (${e.reason}).`);
  }

  // --- Speed of a lookup (tokens + table + mask check).
  const n = 2000;
  const t1 = performance.now();
  for (let i = 0; i < n; i++) await lookup(String(i * 7 % 10000).padStart(4, '0'));
  const perSecond = n / ((performance.now() - t1) / 1000);
  say(`Lookups: ${Math.round(perSecond)} per second on this machine (token derivation + table + mask check).`);
  station.close();
}

runIfMain(import.meta.url, 'pickup-station', main);
