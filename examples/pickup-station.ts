/**
 * npx tsx examples/pickup-station.ts
 *
 * A courier pickup station (快递驿站) finds a customer's parcels by the last four digits of their
 * phone number, the way stations work today ("尾号 4321"), while holding no key at all.
 *
 * - Head office seals the waybills. Parcels go to two outlets: this station and another one.
 * - The search service (head office) holds the keyring. The station terminal sends "4321" to it,
 *   authenticated as its clerk; the service binds the station's own outlet to the request (the
 *   terminal cannot choose another), and the access policy's `pickup` purpose lets it search only
 *   the last-4 indexes, only among parcels whose `routing.destOutlet` is that outlet, at most 60
 *   queries an hour. Every query is audited (index, scope, counts; never the digits).
 * - The station receives label views only (GB/T 41833 masks: `*******4321`); the clerk reads the
 *   masked name and shelf to the customer.
 * - Why no key on the terminal: with a token key (a month's index key) and a stored screen mask `138****5678`,
 *   a stolen terminal could test the 10^4 candidate numbers offline and recover every mobile.
 */
import {
  AccessDeniedError,
  createAccessGuard,
  createFinder,
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  mask,
  MemoryAuditSink,
  MemoryKeyStore,
  waybill,
  waybillPolicy,
  type MaskedRecord,
  type SealedRecord,
  type WaybillSchema,
} from 'waybill-seal';
import { syntheticWaybills } from 'waybill-seal/testing';
import { runIfMain } from './args.js';

export const STATION = 'HZ-XH-017';
export const OTHER_STATION = 'HZ-SC-044';
export const PARCELS = 2000;
export const SEED = 20250615;
/** The customer at the counter owns the parcel at this position (and maybe others). */
export const CUSTOMER_PARCEL = 42;
/** A parcel waiting at the other outlet. */
export const OTHER_PARCEL = 43;
const INDEX = 'receiver.mobile:last4';

const say = (s = '') => process.stdout.write(`${s}\n`);

/** Parcel i goes to this station when even, to the other outlet when odd. */
export const outletOf = (i: number) => (i % 2 === 0 ? STATION : OTHER_STATION);

/** What the terminal gets back: the label view and the shelf. */
interface Hit {
  readonly shelf: string;
  readonly label: MaskedRecord<WaybillSchema>;
}

async function main(): Promise<void> {
  // --- Head office: the keyring, the parcels' sealed records, the search service.
  const keyStore = new MemoryKeyStore(); // wrapped data keys (PgKeyStore in production)
  const audit = new MemoryAuditSink();
  const service = createSealer({ keyring: new LocalKeyring(generateLocalKeyMaterial()), keyStore, guard: createAccessGuard({ policy: waybillPolicy, audit }) });
  const plain = syntheticWaybills({ count: PARCELS, seed: SEED }).map((w, i) => ({ ...w, routing: { destOutlet: outletOf(i) } }));
  const t0 = performance.now();
  const stored = await service.sealMany(waybill, plain);
  const shelves = new Map<string, string>(stored.map((s, i) => [s.waybillNo, `${Math.floor(i / 300) + 1}-${String((Math.floor(i / 20) % 15) + 1).padStart(2, '0')}-${(i % 20) + 1}`]));
  say(`Head office sealed ${PARCELS} waybills for outlets ${STATION} and ${OTHER_STATION} in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);

  /** Which outlet each station login belongs to (the service's registry, not the terminal's say). */
  const stations: Record<string, string> = { [`${STATION}:clerk-1`]: STATION, [`${OTHER_STATION}:clerk-1`]: OTHER_STATION };

  /**
   * The search endpoint: a station login and four digits in, label views out. In a database the
   * finder's tokens and scope become `WHERE last4_tok = ANY($1) AND dest_outlet = $2`.
   */
  async function pickupSearch(login: string, last4: string, claimedOutlet?: string): Promise<{ hits: Hit[]; candidates: number; outOfScope: number }> {
    const outlet = stations[login];
    if (outlet === undefined) throw new AccessDeniedError('unknown_station');
    if (claimedOutlet !== undefined && claimedOutlet !== outlet) throw new AccessDeniedError('out_of_scope', 'a station searches its own outlet only');
    const finder = await createFinder(service, waybill, INDEX, last4, { principal: login, purpose: 'pickup', context: { outlet } });
    const hits: Hit[] = [];
    for (const s of stored) if (await finder.matches(s as SealedRecord<WaybillSchema>)) hits.push({ shelf: shelves.get(s.waybillNo)!, label: mask(waybill, s, 'label') });
    await finder.done();
    return { hits, candidates: finder.stats.candidates, outOfScope: finder.stats.outOfScope };
  }

  // --- The station terminal: no keyring, no key store, no token. It can only ask the service.
  const login = `${STATION}:clerk-1`;
  say(`Station terminal ${STATION}: holds no key; asks the search service as ${login}.`);
  say();

  const last4 = plain[CUSTOMER_PARCEL]!.receiver.mobile!.replace(/\D/g, '').slice(-4);
  say(`A customer says: "尾号 ${last4}" (the last four digits of their phone).`);
  const { hits, candidates, outOfScope } = await pickupSearch(login, last4);
  say(`  token candidates at this outlet: ${candidates}; another outlet's token matches skipped unopened: ${outOfScope}`);
  say(`  confirmed parcels: ${hits.length}`);
  for (const h of hits) {
    say(`    shelf ${h.shelf.padEnd(8)} ${h.label.waybillNo}  ${h.label.receiver.mobile ?? ''}  ${h.label.receiver.name}  (${h.label.receiver.address.district})`);
  }
  say('  The clerk asks for the name and hands over the parcel; the terminal saw label masks only.');
  say();

  // --- A parcel waiting at the other outlet is not found here, and the terminal cannot ask for it.
  const otherLast4 = plain[OTHER_PARCEL]!.receiver.mobile!.replace(/\D/g, '').slice(-4);
  const elsewhere = await pickupSearch(login, otherLast4);
  const leaked = elsewhere.hits.some((h) => h.label.waybillNo === plain[OTHER_PARCEL]!.waybillNo);
  say(`A parcel at ${OTHER_STATION} ("尾号 ${otherLast4}") searched from ${STATION}: ${leaked ? 'FOUND (this must never happen)' : 'not found'} (its outlet is out of scope).`);
  try {
    await pickupSearch(login, otherLast4, OTHER_STATION);
    say('  asking for the other outlet was answered (this must never happen)');
    process.exitCode = 1;
  } catch (e) {
    if (!(e instanceof AccessDeniedError)) throw e;
    say(`Asking the service for ${OTHER_STATION}'s parcels: refused (${e.reason}).`);
  }
  if (leaked) process.exitCode = 1;

  // --- The station's search quota: 60 queries an hour (this hour: 2 so far).
  let answered = 2;
  let refused: string | undefined;
  for (let i = 0; i < 70 && refused === undefined; i++) {
    try {
      await pickupSearch(login, String((i * 7) % 10000).padStart(4, '0'));
      answered++;
    } catch (e) {
      if (!(e instanceof AccessDeniedError)) throw e;
      refused = e.reason;
    }
  }
  say(`Searching on and on: ${answered} queries answered this hour, then refused (${refused ?? 'never'}).`);
  const events = audit.events.filter((e) => e.type === 'search');
  say(`Audit log: ${events.length} search events, ${audit.events.filter((e) => e.type === 'alert').length} quota alert; none holds the digits asked for.`);
  if (JSON.stringify(audit.events).includes(`"${last4}"`)) process.exitCode = 1;
  service.close();
}

runIfMain(import.meta.url, 'pickup-station', main);
