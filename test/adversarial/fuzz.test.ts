/**
 * Fuzzing of every parser that reads untrusted input. Each property: only typed errors
 * (WaybillSealError subclasses), no hang, and no plaintext in any error. The default run is small;
 * `npm run fuzz` sets FUZZ_RUNS=100000 for the full campaign.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEnc } from '../../src/format/sealed-field.js';
import { isDataKeyRecord } from '../../src/keys/key-file.js';
import { readFileSync } from 'node:fs';
import { AuditChain, verifyAuditLog } from '../../src/access/audit.js';
import { decodeCsvRow, planCsvInput } from '../../src/cli/codec.js';
import { LocalKeyring, WaybillSealError, inspect, mask, parseKeyFile, schemaFromJson, waybill } from '../../src/index.js';
import { seededRandom } from '../../src/testing/synthetic.js';
import { freshSealer, sampleWaybill } from '../helpers.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1500);
const SECRETS = ['13812345678', '张三', '欧阳娜娜', '11010519491231002X', '科技园路1号3栋2单元501室', '请放门口'];

/** Runs fn; passes when it returns or throws a typed error whose text and fields carry no secret. */
function typedOrOk(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WaybillSealError);
    const text = JSON.stringify({ ...(e as object), message: (e as Error).message });
    for (const s of SECRETS) expect(text).not.toContain(s);
  }
}

async function typedOrOkAsync(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WaybillSealError);
    const text = JSON.stringify({ ...(e as object), message: (e as Error).message });
    for (const s of SECRETS) expect(text).not.toContain(s);
  }
}

/** Mutations of a valid JSON value: replace, delete or retype a random node. */
type Rnd = { nextInt(lo: number, hi: number): number };

function mutate(value: unknown, rnd: Rnd): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rnd.nextInt(0, 4) === 0) return rnd.nextInt(0, 1) ? [] : 'x';
    const i = rnd.nextInt(0, value.length - 1);
    return value.map((v, j) => (j === i ? mutate(v, rnd) : v));
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0 || rnd.nextInt(0, 5) === 0) return rnd.nextInt(0, 1) ? null : 42;
    const k = keys[rnd.nextInt(0, keys.length - 1)]!;
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const op = rnd.nextInt(0, 3);
    if (op === 0) delete copy[k];
    else if (op === 1) copy[`${k}_x`] = copy[k];
    else copy[k] = mutate(copy[k], rnd);
    return copy;
  }
  if (typeof value === 'string') {
    const choices = ['', value.slice(1), `${value}.`, value.replace(/[A-Za-z]/, '~'), value.split('').reverse().join(''), 7, null, [value]];
    return choices[rnd.nextInt(0, choices.length - 1)];
  }
  return ['0', true, {}, [], -1, 1e308, Number.NaN][rnd.nextInt(0, 6)];
}

const mutations = (base: unknown) =>
  fc.integer().map((seed) => {
    const next = seededRandom(seed);
    const rnd: Rnd = { nextInt: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
    let v = base;
    for (let n = rnd.nextInt(1, 3); n > 0; n--) v = mutate(v, rnd);
    return v;
  });

describe('fuzz: parsers give typed errors only, never plaintext', () => {
  it('parseEnc: arbitrary strings and mutated ciphertext strings', async () => {
    const { sealer } = freshSealer();
    const enc = (await sealer.seal(waybill, sampleWaybill())).sender.name.enc;
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), mutations(enc), fc.anything()), (s) => typedOrOk(() => parseEnc(s))),
      { numRuns: RUNS },
    );
  });

  it('sealed records: mask, inspect and open of mutated records', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    await fc.assert(
      fc.asyncProperty(mutations(sealed), async (rec) => {
        typedOrOk(() => mask(waybill, rec as never, 'label'));
        typedOrOk(() => inspect(rec));
        await typedOrOkAsync(() => sealer.open(waybill, rec as never, { principal: 'fuzz', purpose: 'fuzz' }));
      }),
      { numRuns: RUNS },
    );
  });

  it('key files: parseKeyFile and LocalKeyring on mutated key files', () => {
    const { material } = freshSealer();
    const file = { format: 'waybill-seal/keys', version: 1, suite: 'xchacha20-poly1305', ...material, dataKeys: [] };
    fc.assert(
      fc.property(fc.oneof(mutations(file), fc.anything()), (f) =>
        typedOrOk(() => {
          const parsed = parseKeyFile(f);
          new LocalKeyring(parsed).close();
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it('key store rows: isDataKeyRecord never throws and accepts only well-formed rows', () => {
    const row = { id: 'contact/2025-03/1', keyClass: 'contact', scope: '2025-03', generation: 1, suite: 'xchacha20-poly1305', kekId: 'local:v1:contact', wrapped: 'AAAA', createdAt: '2025-03-01T00:00:00Z' };
    fc.assert(
      fc.property(fc.oneof(mutations(row), fc.anything()), (r) => {
        const ok = isDataKeyRecord(r);
        if (ok) expect(typeof (r as { id: unknown }).id).toBe('string');
      }),
      { numRuns: RUNS },
    );
  });

  it('plain records: seal of mutated plain records gives typed validation errors without values', async () => {
    const { sealer } = freshSealer();
    await fc.assert(
      fc.asyncProperty(mutations(sampleWaybill()), async (rec) => {
        await typedOrOkAsync(() => sealer.seal(waybill, rec as never));
      }),
      { numRuns: RUNS },
    );
  });

  it('audit lines: verifyAuditLog reports mutated logs, never throws', () => {
    const key = new Uint8Array(32).fill(9);
    const chain = new AuditChain(key);
    const event = (i: number) => ({ type: 'access' as const, time: '2025-03-01T00:00:00.000Z', principal: 'p', purpose: 'deliver', schema: 'waybill', schemaVersion: 1, recordId: `SF${i}`, requested: '*' as const, opened: [], withheld: [], outcome: 'denied' as const, reason: 'out_of_scope', evidence: {} });
    const lines = Array.from({ length: 4 }, (_, i) => chain.next(event(i)));
    const intact = verifyAuditLog(lines, key);
    if (!intact.ok) throw new Error('the fixture log must verify');
    // With the head as a checkpoint, truncation at the end is caught too (docs/ACCESS.md).
    const checkpoint = intact.head;
    fc.assert(
      fc.property(mutations(lines.map((l) => JSON.parse(l) as unknown)), fc.string(), (mutated, junk) => {
        const text = Array.isArray(mutated) ? mutated.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))) : [junk];
        const r = verifyAuditLog(text, key, { checkpoint });
        if (JSON.stringify(text) !== JSON.stringify(lines)) expect(r.ok).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('schema files: schemaFromJson of mutated schema files gives typed errors only', () => {
    const base = JSON.parse(readFileSync(new URL('../fixtures/parcel.schema.json', import.meta.url), 'utf8')) as unknown;
    fc.assert(
      fc.property(fc.oneof(mutations(base), fc.anything()), (json) => typedOrOk(() => schemaFromJson(json))),
      { numRuns: RUNS },
    );
  });

  it('CLI input: CSV rows (header and cells) decode to records or typed errors, never values in messages', async () => {
    const { sealer } = freshSealer();
    const header = ['waybillNo', 'createdAt', 'sender.name', 'sender.mobile', 'sender.idNumber', 'sender.address.province', 'sender.address.city', 'sender.address.district', 'sender.address.detail', 'receiver.name', 'receiver.mobile', 'receiver.address.province', 'receiver.address.city', 'receiver.address.district', 'receiver.address.detail', 'items', 'weightGrams', 'remark'];
    const w = sampleWaybill();
    const row = [w.waybillNo, w.createdAt, w.sender.name, w.sender.mobile, w.sender.idNumber, '广东省', '深圳市', '南山区', w.sender.address.detail, w.receiver.name, w.receiver.mobile, '浙江省', '杭州市', '西湖区', w.receiver.address.detail, JSON.stringify(w.items), '1200', w.remark];
    await fc.assert(
      fc.asyncProperty(mutations(header), mutations(row), async (h, cells) => {
        await typedOrOkAsync(async () => {
          const heads = Array.isArray(h) ? h.map(String) : [String(h)];
          const plan = planCsvInput(heads, waybill, {});
          const values = Array.isArray(cells) ? cells.map((c) => (c === null ? null : String(c))) : [String(cells)];
          await sealer.seal(waybill, decodeCsvRow(plan, values, waybill, 'plain') as never);
        });
      }),
      { numRuns: RUNS },
    );
  });
});
