/**
 * Section `tags`: the cost per record of each kind of record tag (issue 14), on sealed synthetic
 * waybills: making a tag (what `seal` adds) and checking one (what `open`, `verify` and a printer's
 * `mask --verify-key` add). HMAC-SHA-256 is the baseline; Ed25519 and SM2 are signatures, which a
 * printer checks with a public key it cannot sign with. `hmac-sha256 t1` checks the committed 0.1.0
 * records (test/fixtures/sealed-ws1.jsonl, tags in the older `t1` format) and `hmac-sha256 t2` the same
 * records retagged: what a check cost before the `t2` format against what it costs now, in one run.
 */
import { readFileSync } from 'node:fs';
import { syntheticWaybills } from 'waybill-seal/testing';
import { parseKeyFile } from '../src/keys/key-file.js';
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
  const fixture = (name: string) => new URL(`../test/fixtures/${name}`, import.meta.url);
  const t1Keyring = new LocalKeyring(parseKeyFile(JSON.parse(readFileSync(fixture('sealed-ws1.keys.json'), 'utf8'))));
  const t1Records = readFileSync(fixture('sealed-ws1.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const t1Tagger = createTagger(t1Keyring, 'hmac-sha256');
  // The same records with their tags rewritten as t2 (what `retag` does): t1 against t2 on equal input.
  const t2Records: Record<string, unknown>[] = [];
  for (const { $tag: _, ...r } of t1Records) t2Records.push({ ...r, $tag: await t1Tagger.tag(waybill, r) });
  for (const [name, records] of [
    ['hmac-sha256 t1 (0.1.0 records)', t1Records],
    ['hmac-sha256 t2 (same records)', t2Records],
  ] as const) {
    let k = 0;
    out.push({
      name,
      group: 'verify 1 record (open, verify, mask --verify-key)',
      run: async () => {
        if (!(await t1Tagger.verify(waybill, records[k++ % records.length]!)).ok) throw new Error(`bench record (${name}) does not verify`);
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
