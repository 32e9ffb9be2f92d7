/**
 * npm run demo — the pitch of waybill-seal, on embedded defaults: no set-up, no network.
 * Seals a few hundred synthetic waybills, prints labels from masks only, opens one field for a
 * purpose, and shows that a ciphertext moved to another record does not open.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AccessDeniedError,
  AuthenticationError,
  MemoryAuditSink,
  createAccessGuard,
  createSealer,
  describeBackend,
  inspect,
  mask,
  waybill,
  waybillPolicy,
  type Redacted,
  type SealedRecord,
} from 'waybill-seal';
import { createKeyFile, loadKeyFile } from 'waybill-seal/node';
import { syntheticWaybills } from 'waybill-seal/testing';
import { renderTextLabel } from './label-text.js';

const COUNT = 300;
const say = (s = '') => process.stdout.write(`${s}\n`);
const ms = (t0: number) => performance.now() - t0;
const short = (enc: string) => (enc.length > 72 ? `${enc.slice(0, 60)}…(${enc.length} chars)` : enc);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-seal-demo-'));
  try {
    say('waybill-seal — personal data on courier waybills, encrypted field by field.');
    say('Labels, screens and search keep working on masks and tokens; plaintext opens only for a purpose.\n');

    const keyPath = join(dir, 'keys.json');
    await createKeyFile(keyPath);
    const keys = await loadKeyFile(keyPath);
    // This sealer opens without a policy ('allow-all', said explicitly); step 5 also shows the built-in policy.
    const sealer = createSealer({ keyring: keys.keyring, keyStore: keys.keyStore, guard: 'allow-all' });
    say(`1. New local keyring at ${keyPath} (one KEK per key class: contact, address, identity, note).`);

    const waybills = syntheticWaybills({ count: COUNT });
    let t0 = performance.now();
    const sealed: SealedRecord<typeof waybill>[] = await sealer.sealMany(waybill, waybills);
    const sealMs = ms(t0);
    const fields = sealed.reduce((n, r) => n + inspect(r).length, 0);
    say(`2. Sealed ${COUNT} synthetic waybills (${fields} protected fields) in ${sealMs.toFixed(0)} ms.\n`);

    say('3. Three labels, printed from the stored label masks alone (no key was used):');
    t0 = performance.now();
    const labels = sealed.map((r) => mask(waybill, r, 'label'));
    const maskMs = ms(t0);
    for (const l of labels.slice(0, 3)) say(renderTextLabel(l));
    say('   GB/T 41833: names hide ≥1 character, phones ≥6 digits, the unit and room are starred.\n');

    const one = sealed[0]!;
    say('4. What the database stores for the first waybill (receiver part):');
    say(
      JSON.stringify(
        {
          waybillNo: one.waybillNo,
          receiver: {
            name: { ...one.receiver.name, enc: short(one.receiver.name.enc) },
            mobile: one.receiver.mobile && { ...one.receiver.mobile, enc: short(one.receiver.mobile.enc) },
            address: { ...one.receiver.address, detail: { ...one.receiver.address.detail, enc: short(one.receiver.address.detail.enc) } },
          },
        },
        null,
        2,
      ),
    );

    say('\n5. A courier opens one field, for a purpose:');
    const opened = await sealer.open(waybill, one, { principal: 'courier-0417', purpose: 'deliver', fields: ['receiver.mobile'] });
    say(`   open(receiver.mobile, purpose "deliver") → printed: ${String(opened.record.receiver.mobile)}, .reveal(): ${(opened.record.receiver.mobile as Redacted).reveal()}`);
    say(`   the other fields stay masked: receiver.name = ${String(opened.record.receiver.name)}, sender.mobile = ${String(opened.record.sender.mobile)}`);
    const audit = new MemoryAuditSink();
    const guarded = createSealer({ keyring: keys.keyring, keyStore: keys.keyStore, guard: createAccessGuard({ policy: waybillPolicy, audit }) });
    const onRoute = await sealer.seal(waybill, { ...waybills[2]!, routing: { routeId: 'R-0571-03' } });
    const courier = { principal: 'courier-0417', purpose: 'deliver', context: { route: 'R-0571-03' } };
    say(`   under the built-in policy, on the courier's route: opened ${(await guarded.open(waybill, onRoute, courier)).opened.join(', ')}`);
    await guarded.open(waybill, one, courier).catch((e: unknown) => {
      if (!(e instanceof AccessDeniedError)) throw e;
      say(`   a waybill of another route: ${e.message}; both decisions are in the audit log (${audit.events.length} events)`);
    });

    say('\n6. An insider copies that ciphertext into another waybill and tries to open it:');
    const forged = { ...sealed[1]!, receiver: { ...sealed[1]!.receiver, mobile: one.receiver.mobile! } };
    try {
      await sealer.open(waybill, forged, { principal: 'insider', purpose: 'deliver', fields: ['receiver.mobile'] });
      say('   opened (this must never happen)');
      process.exitCode = 1;
    } catch (e) {
      say(`   ${e instanceof AuthenticationError ? 'refused' : 'failed'}: ${(e as Error).message} — the ciphertext is bound to its record and field.`);
    }

    t0 = performance.now();
    for (const r of sealed) await sealer.open(waybill, r, { principal: 'demo', purpose: 'audit' });
    const openMs = ms(t0);
    say('\n7. Timings on this machine (one process, cold start, native crypto where the runtime has it):');
    say(`   crypto: ${await describeBackend()}`);
    say(`   seal  ${(COUNT / (sealMs / 1000)).toFixed(0).padStart(7)} waybills/s`);
    say(`   open  ${(COUNT / (openMs / 1000)).toFixed(0).padStart(7)} waybills/s (all fields)`);
    say(`   mask  ${(COUNT / (maskMs / 1000)).toFixed(0).padStart(7)} waybills/s (no key needed)`);
    sealer.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? `${e.name}: ${e.message}` : 'unknown error'}\n`);
  process.exitCode = 1;
});
