/**
 * `waybill-seal/testing` (issue 20): test keys that are deterministic and refuse production,
 * synthetic waybills, the plaintext scanner and the matchers, each shown as the leak it catches.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthenticationError, mask, MemoryKeyStore, waybill, type PlainRecord, type WaybillSchema } from 'waybill-seal';
import { checkProtectedValue, computeMasks } from 'waybill-seal/mask';
import {
  describeFindings,
  findPlaintext,
  matchers,
  syntheticWaybills,
  testKeyMaterial,
  testKeyring,
  testSealer,
  TestKitInProductionError,
} from 'waybill-seal/testing';
import 'waybill-seal/testing/vitest';
import { toBase64Url } from '../../src/crypto/bytes.js';
import { sampleWaybill } from '../helpers.js';

type Waybill = PlainRecord<WaybillSchema>;
const sample = () => sampleWaybill() as Waybill;
const who = { principal: 'tester', purpose: 'test', reveal: 'plain' } as const;

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('testKeyring and testSealer', () => {
  it('derive the same keys from the same seed (HKDF-SHA256), so records sealed in one run open in the next', async () => {
    const keyStore = new MemoryKeyStore();
    const sealed = await testSealer({ seed: 'suite-a', keyStore }).seal(waybill, sample());
    const opened = await testSealer({ seed: 'suite-a', keyStore }).open(waybill, sealed, who);
    expect(opened.record.receiver.mobile).toBe(sample().receiver.mobile);
    // Another seed is another key set: the wrapped data key does not unwrap (the one typed error).
    await expect(testSealer({ seed: 'suite-b', keyStore }).open(waybill, sealed, who)).rejects.toThrow(AuthenticationError);
    // The KEK is HKDF-SHA256(seed, the kit's salt, its use): an independent derivation agrees.
    const salt = new TextEncoder().encode('waybill-seal/testing/v1: UNSAFE TEST KEYS, NOT FOR PRODUCTION');
    const expected = toBase64Url(hkdf(sha256, new TextEncoder().encode('suite-a'), salt, new TextEncoder().encode('kek/v1/xchacha20-poly1305/contact'), 32));
    expect(testKeyMaterial({ seed: 'suite-a' }).keks[0]!.keys['contact']).toBe(expected);
  });

  it('never use Math.random', async () => {
    const random = vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random used');
    });
    const a = testKeyMaterial({ seed: 'x' });
    await testSealer({ seed: 'x' }).seal(waybill, sample());
    expect(random).not.toHaveBeenCalled();
    expect(testKeyMaterial({ seed: 'x' })).toEqual(a);
    expect(testKeyMaterial({ seed: 'y' }).secrets).not.toEqual(a.secrets);
  });

  it('refuse to run with NODE_ENV=production, also a keyring made before (typed error, no key material in it)', async () => {
    const early = testKeyring({ seed: 'early' });
    const sealer = testSealer({ seed: 'early', keyring: early });
    vi.stubEnv('NODE_ENV', 'production');
    expect(() => testKeyring({ seed: 'x' })).toThrow(TestKitInProductionError);
    expect(() => testSealer()).toThrow(TestKitInProductionError);
    const err = await sealer.seal(waybill, sample()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestKitInProductionError);
    expect((err as TestKitInProductionError).code).toBe('TEST_KIT_IN_PRODUCTION');
    await expect(early.secret('index')).rejects.toThrow(TestKitInProductionError);
    vi.stubEnv('NODE_ENV', ' Production ');
    expect(() => testKeyring()).toThrow(TestKitInProductionError);
    vi.stubEnv('NODE_ENV', 'test');
    expect(testKeyring().unsafeTestKeys).toBe(true);
  });

  it('an empty seed is a configuration error', () => {
    expect(() => testKeyring({ seed: '' })).toThrow(/seed must be a non-empty string/);
  });
});

describe('syntheticWaybills', () => {
  it('is deterministic per seed and valid: every record seals without lenient mode', async () => {
    for (const locale of ['cn', 'intl', 'mixed'] as const) {
      const a = syntheticWaybills({ seed: 9, count: 100, locale });
      expect(syntheticWaybills({ seed: 9, count: 100, locale })).toEqual(a);
      expect(syntheticWaybills({ seed: 10, count: 100, locale })).not.toEqual(a);
      const sealed = await testSealer().sealMany(waybill, a);
      expect(sealed).toHaveLength(100);
    }
  });

  it('holds the hard cases: compound surnames, Extension B, middle dots, virtual numbers, landlines, numbers and addresses abroad', () => {
    const cn = syntheticWaybills({ seed: 1, count: 1000 });
    const names = cn.flatMap((w) => [w.sender.name, w.receiver.name]);
    expect(names.some((n) => /^(欧阳|司马|诸葛)/.test(n))).toBe(true);
    expect(names.some((n) => /[\u{20000}-\u{2A6DF}]/u.test(n))).toBe(true);
    expect(names.some((n) => n.includes('·'))).toBe(true);
    expect(cn.some((w) => w.receiver.virtualNumber !== undefined)).toBe(true);
    expect(cn.some((w) => w.receiver.landline !== undefined)).toBe(true);
    expect(cn.every((w) => w.receiver.address.country === 'CN')).toBe(true);
    const intl = syntheticWaybills({ seed: 1, count: 300, locale: 'intl' });
    expect(intl.every((w) => w.receiver.address.country !== 'CN' && w.receiver.mobile!.startsWith('+') && !w.receiver.mobile!.startsWith('+86'))).toBe(true);
    for (const w of intl) expect(checkProtectedValue('mobile', w.receiver.mobile!, { country: w.receiver.address.country! }), w.receiver.address.country).toBeUndefined();
    const mixed = syntheticWaybills({ seed: 1, count: 300, locale: 'mixed' });
    const abroad = mixed.filter((w) => w.receiver.address.country !== 'CN').length;
    expect(abroad).toBeGreaterThan(50);
    expect(abroad).toBeLessThan(250);
  });

  it('refuses bad options', () => {
    expect(() => syntheticWaybills({ count: -1 })).toThrow(/count/);
    expect(() => syntheticWaybills({ count: 1, locale: 'fr' as 'cn' })).toThrow(/locale/);
  });
});

const jsonEscaped = (s: string) => s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

describe('findPlaintext', () => {
  const w = sample();

  it('finds a mobile in every common written form, and says where without the value', () => {
    const forms = ['13812345678', '+86 138 1234 5678', '8613812345678', '138-1234-5678', '0086 138.1234.5678', '(+86)138 1234 5678'];
    for (const form of forms) {
      const line = `2025-03-01T08:30:00Z INFO courier called ${form} ok`;
      const found = findPlaintext(line, w);
      expect(found, form).toHaveLength(1);
      expect(found[0]).toMatchObject({ path: '', record: 0, field: 'sender.mobile', kind: 'mobile' });
      const { offset, length } = found[0]!;
      expect(line.slice(offset, offset + length).replace(/\D/g, '')).toMatch(/13812345678$/);
      expect(JSON.stringify(found) + describeFindings(found)).not.toMatch(/1381234|5678/);
    }
  });

  it('finds values JSON-escaped, URL-encoded, in bytes, object keys, errors, Maps and log arrays', () => {
    const haystack = {
      body: jsonEscaped(JSON.stringify({ to: w.receiver.name })),
      query: `/search?name=${encodeURIComponent(w.receiver.address.detail)}&m=${encodeURIComponent(w.receiver.mobile!)}`,
      raw: new TextEncoder().encode(`{"id":"${w.sender.idNumber!.toLowerCase()}"}`),
      headers: new Map([['x-caller', w.sender.name]]),
      logs: ['ok', 'ok', `remark=${w.remark}`],
      [w.sender.mobile!]: 'by key',
      error: new Error(`lookup failed for ${w.receiver.name}`),
    };
    const found = findPlaintext(haystack, [w]);
    const at = (field: string) => found.filter((f) => f.field === field).map((f) => `${f.path}:${f.form}`);
    expect(at('receiver.name')).toEqual(['body:json-escaped', 'error.message:as-is']);
    expect(at('receiver.address.detail')).toEqual(['query:url-encoded']);
    expect(at('receiver.mobile').map((x) => x.split(':')[0])).toEqual(['query']);
    expect(at('sender.idNumber')).toEqual(['raw:normalised']);
    expect(at('sender.name')).toEqual(['headers.x-caller:as-is']);
    expect(at('remark')).toEqual(['logs.2:as-is']);
    // A key holding plaintext is named by position, never by itself.
    expect(found.find((f) => f.field === 'sender.mobile')).toMatchObject({ path: '[key 5]', inKey: true, offset: 0 });
    // Byte offsets for bytes.
    const id = found.find((f) => f.field === 'sender.idNumber')!;
    expect(new TextDecoder().decode(haystack.raw.subarray(id.offset, id.offset + id.length)).toUpperCase()).toBe(w.sender.idNumber);
    for (const value of [w.receiver.name, w.sender.mobile!, w.sender.idNumber!, w.receiver.address.detail]) {
      expect(JSON.stringify(found)).not.toContain(value);
      expect(describeFindings(found)).not.toContain(value);
    }
  });

  it('finds minority names with any middle dot and Latin names in any case and spacing; Extension B characters', () => {
    const r = { ...w, receiver: { ...w.receiver, name: '阿依古丽·买买提' }, sender: { ...w.sender, name: 'Siobhán  Byrne' } };
    expect(findPlaintext('收件人 阿依古丽•买买提', r).map((f) => f.field)).toEqual(['receiver.name']);
    expect(findPlaintext('收件人 阿依古丽.买买提', r).map((f) => f.field)).toEqual(['receiver.name']);
    expect(findPlaintext('from SIOBHÁN BYRNE', r).map((f) => f.field)).toEqual(['sender.name']);
    expect(findPlaintext('from Siobhán+Byrne', r).map((f) => f.field)).toEqual(['sender.name']);
    const ext = { ...w, receiver: { ...w.receiver, name: '𠮷野家' } };
    expect(findPlaintext(`x ${jsonEscaped('𠮷野家')} y`, ext)[0]).toMatchObject({ field: 'receiver.name', form: 'json-escaped' });
  });

  it('reports nothing for sealed records and mask views of the same records (no false alarms)', async () => {
    const records = syntheticWaybills({ seed: 3, count: 40, locale: 'mixed' });
    const sealed = await testSealer().sealMany(waybill, records);
    const views = sealed.flatMap((s) => [mask(waybill, s, 'label'), mask(waybill, s, 'screen')]);
    expect(findPlaintext([sealed, views, JSON.stringify(views)], records)).toEqual([]);
    // …while the records themselves hold every one of their protected values.
    const self = findPlaintext(records, records);
    expect(new Set(self.map((f) => f.record)).size).toBe(40);
    expect(new Set(self.map((f) => f.field.replace(/^(sender|receiver)\./, '')))).toEqual(
      new Set(['name', 'mobile', 'landline', 'idNumber', 'address.detail', 'remark']),
    );
  });

  it('a privacy number is public on labels: its main number is not a finding, a real mobile is', () => {
    const r = sample();
    const label = computeMasks('virtualNumber', r.receiver.virtualNumber!, {}, {})['label']!;
    expect(findPlaintext(label, r)).toEqual([]);
    expect(findPlaintext(`${label} ${r.sender.mobile}`, r).map((f) => f.field)).toEqual(['sender.mobile']);
  });

  it('scans a big log in reasonable time (linear patterns)', () => {
    const records = syntheticWaybills({ seed: 4, count: 50 });
    const log = Array.from({ length: 20_000 }, (_, i) => `2025-03-01T08:${String(i % 60).padStart(2, '0')} GET /waybills/WS${i} 200 1-2-3-4-5-6-7-8-9 ${'a1-'.repeat(20)}`).join('\n');
    expect(findPlaintext(log, records)).toEqual([]);
  });
});

describe('matchers', () => {
  const w = sample();

  it('toContainNoPlaintext fails on a leaked phone and its message does not print it', () => {
    const logs = ['POST /waybills 201', `sms sent to +86 139 8765 4321`];
    expect(['POST /waybills 201']).toContainNoPlaintext([w]);
    let message = '';
    try {
      expect(logs).toContainNoPlaintext([w]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('receiver.mobile');
    expect(message).toContain('1 occurrence');
    expect(message).not.toMatch(/8765|4321/);
    expect(logs).not.toContainNoPlaintext(w);
  });

  it('toBeSealed passes sealed records (objects or JSON) and names the first plaintext field, not its value', async () => {
    const sealed = await testSealer().seal(waybill, w);
    expect(sealed).toBeSealed(waybill);
    expect(JSON.stringify(sealed)).toBeSealed(waybill);
    const leaked = { ...sealed, receiver: { ...sealed.receiver, mobile: w.receiver.mobile } };
    let message = '';
    try {
      expect(leaked).toBeSealed(waybill);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('receiver.mobile');
    expect(message).not.toContain('4321');
    expect(w).not.toBeSealed(waybill);
    // A key that is itself a value is not printed either.
    const extra = { ...sealed, sender: { ...sealed.sender, '13700001111': 'x' } };
    const m2 = matchers.toBeSealed.call({}, extra, waybill);
    expect(m2.pass).toBe(false);
    expect(m2.message()).not.toContain('13700001111');
  });

  it('toMatchMasks passes the stored view and names fields that show anything else', async () => {
    const sealed = await testSealer().seal(waybill, w);
    const view = mask(waybill, sealed, 'label');
    expect(view).toMatchMasks(waybill, sealed, 'label');
    expect(mask(waybill, sealed, 'screen')).toMatchMasks(waybill, sealed);
    const leaky = { ...view, receiver: { ...view.receiver, mobile: w.receiver.mobile } };
    const result = matchers.toMatchMasks.call({}, leaky, waybill, sealed, 'label');
    expect(result.pass).toBe(false);
    expect(result.message()).toContain('receiver.mobile');
    expect(result.message()).not.toContain('4321');
    expect(leaky).not.toMatchMasks(waybill, sealed, 'label');
  });
});
