/**
 * Section `tags`: the cost per record of each kind of record tag (issue 14), on sealed synthetic
 * waybills: making a tag (what `seal` adds) and checking one (what `open`, `verify` and a printer's
 * `mask --verify-key` add). HMAC-SHA-256 is the baseline; Ed25519 and SM2 are signatures, which a
 * printer checks with a public key it cannot sign with.
 */
import { syntheticWaybills } from 'waybill-seal/testing';
import { toBase64Url } from '../src/crypto/bytes.js';
import { newSigningKey, SIGNATURE_ALGS } from '../src/crypto/signature.js';
import { createTagger, type RecordTagger } from '../src/integrity/tag.js';
import { createSealer, generateLocalKeyMaterial, LocalKeyring, MemoryKeyStore, waybill } from '../src/index.js';
import type { BenchCase, Section } from './harness.js';

const RECORDS = 64;

async function cases(): Promise<BenchCase[]> {
  const material = generateLocalKeyMaterial();
  const signing = Object.fromEntries(await Promise.all(SIGNATURE_ALGS.map(async (alg) => [alg, [{ version: 1, key: toBase64Url(await newSigningKey(alg)) }]])));
  const keyring = new LocalKeyring({ ...material, secrets: { ...material.secrets, ...signing } });
  const sealer = createSealer({ keyring, keyStore: new MemoryKeyStore(), guard: 'allow-all', integrity: false });
  const sealed = (await sealer.sealMany(waybill, syntheticWaybills({ count: RECORDS, seed: 1414 }))) as unknown as Record<string, unknown>[];
  const taggers: [string, RecordTagger][] = [
    ['hmac-sha256', createTagger(keyring, 'hmac-sha256')],
    ['hmac-sm3', createTagger(keyring, 'hmac-sm3')],
    ...SIGNATURE_ALGS.map((alg): [string, RecordTagger] => [alg, createTagger(keyring, 'hmac-sha256', { alg })]),
  ];
  const out: BenchCase[] = [];
  for (const [name, tagger] of taggers) {
    const tagged: Record<string, unknown>[] = [];
    for (const r of sealed) tagged.push({ ...r, $tag: await tagger.tag(waybill, r) });
    let i = 0;
    let j = 0;
    out.push({ name, group: 'tag 1 record (seal)', run: () => tagger.tag(waybill, sealed[i++ % RECORDS]!) });
    out.push({
      name,
      group: 'verify 1 record (open, verify, mask --verify-key)',
      run: async () => {
        if (!(await tagger.verify(waybill, tagged[j++ % RECORDS]!)).ok) throw new Error('bench record does not verify');
      },
    });
  }
  return out;
}

export const tagsSection: Section = {
  name: 'tags',
  description: 'record tag per record: HMAC-SHA-256 (default), HMAC-SM3, Ed25519, SM2 signatures',
  baseline: (c) => c.name === 'hmac-sha256',
  setup: cases,
};
