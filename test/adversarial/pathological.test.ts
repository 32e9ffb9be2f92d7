/**
 * Pathological inputs for every masker and normaliser: long runs of separators, digits, numerals and
 * context words, and 1 MB fields. The attack: one crafted waybill (or search query) pins the event
 * loop of every sealer that masks it (a backtracking regex took 17 s on 160,000 characters of an
 * address). Each input gets a per-input wall-clock budget: a bound on work, generous for a loaded
 * machine (a quadratic pass over these sizes takes minutes), not a speed figure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskAddressDetail } from '../../src/mask/address.js';
import { maskName } from '../../src/mask/name.js';
import { computeMasks, maskValue } from '../../src/mask/index.js';
import { decodeCsvRow, planCsvInput } from '../../src/cli/codec.js';
import { PLACEHOLDER } from '../../src/mask/stars.js';
import { parseEmail } from '../../src/normalize/email.js';
import { parseIdNumber } from '../../src/normalize/id-number.js';
import { normalizeName } from '../../src/normalize/name.js';
import { parsePhone } from '../../src/normalize/phone.js';
import { parseVirtualNumber } from '../../src/normalize/phone-core.js';
import { normalizePart } from '../../src/search/transforms.js';
import { MAX_VALUE_LENGTH, PROTECTED_KINDS } from '../../src/schema/kinds.js';
import { ValidationError, waybill } from '../../src/index.js';
import { freshSealer, sampleWaybill } from '../helpers.js';

const BUDGET_MS = 5_000;
const MB = 1 << 20;
/** What the old maskers and parsers were quadratic on. */
const RUNS = ['1', ' ', '-', ' . ', '一', '楼 ', 'x ', '1-', 'A', '·', '\u3000', '5-2-301室 '];
const CONTEXTS = ['', '单元', '室', '楼501', '号房', 'x1', '张', '@a.b'];

/** `unit` repeated to about `length` characters, between a head and a tail that make the patterns try. */
const run = (head: string, unit: string, length: number, tail: string) => head + unit.repeat(Math.ceil(length / unit.length)) + tail;

function withinBudget(what: string, fn: () => unknown): void {
  const start = performance.now();
  try {
    fn();
  } catch {
    // Only the time is judged here; typed errors are the fuzz suite's business.
  }
  const ms = performance.now() - start;
  expect(ms, `${what} took ${Math.round(ms)} ms`).toBeLessThan(BUDGET_MS);
}

/** Every masker and normaliser, uncapped internals included (the caps must not be what keeps them linear). */
const TARGETS: readonly [string, (v: string) => unknown][] = [
  ['maskAddressDetail', (v) => maskAddressDetail(v, 'label')],
  ['maskName', (v) => maskName(v, 'label', {})],
  ['normalizeName', normalizeName],
  ['parseVirtualNumber', parseVirtualNumber],
  ['parsePhone', (v) => parsePhone(v)],
  ['parseEmail', parseEmail],
  ['parseIdNumber', parseIdNumber],
  ['normalizePart name', (v) => normalizePart('name', v, 'query', undefined)],
  ['normalizePart digits', (v) => normalizePart('digits', v, 'query', undefined)],
];

describe('pathological inputs: every masker and normaliser works in linear time', () => {
  it('long runs of separators, digits and context words (fast-check), each within its budget', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RUNS), fc.constantFrom(...CONTEXTS), fc.constantFrom(...CONTEXTS), fc.integer({ min: 10_000, max: 200_000 }), (unit, head, tail, length) => {
        const value = run(head, unit, length, tail);
        for (const [name, fn] of TARGETS) withinBudget(`${name} on ${JSON.stringify(head)} + ${JSON.stringify(unit)} x ${length} + ${JSON.stringify(tail)}`, () => fn(value));
      }),
      { numRuns: 12 },
    );
  });

  it('the address that took 17 s: 160,000 characters after a context word', () => {
    for (const value of [run('18楼', ' ', 160_000, '1801'), run('', '一', 160_000, 'x单元'), run('1', ' ', 160_000, 'x室')]) {
      withinBudget('maskAddressDetail', () => maskAddressDetail(value, 'label'));
    }
  });

  it('1 MB fields of every kind: maskValue gives the placeholder without looking inside, within the budget', () => {
    for (const kind of PROTECTED_KINDS) {
      for (const unit of RUNS.slice(0, 4)) {
        const v = run('', unit, MB, '');
        withinBudget(`maskValue ${kind}`, () => {
          const masked = maskValue(kind, kind === 'virtualNumber' ? { main: v, ext: '1' } : v, 'label', {}, {});
          expect(masked).toBe(PLACEHOLDER);
        });
      }
    }
  });
});

describe('reviewer findings: paths that skipped the caps or backtracked', () => {
  it('computeMasks (public, waybill-seal/mask) on a 1 MB name gives the placeholder for every profile, within the budget', () => {
    const v = run('', '王.', MB, '');
    withinBudget('computeMasks name', () => {
      expect(computeMasks('name', v, {}, {})).toEqual({ label: PLACEHOLDER, screen: PLACEHOLDER });
    });
  });

  it('a CSV number cell of 200,000 digits and a letter is refused as expected_number, within the budget (was quadratic)', () => {
    const plan = planCsvInput(['waybillNo', 'weightGrams'], waybill, {});
    for (const cell of ['1'.repeat(200_000) + 'x', '1'.repeat(200_000), `1.${'1'.repeat(200_000)}e`]) {
      withinBudget('decodeCsvRow weightGrams', () => {
        expect(() => decodeCsvRow(plan, ['SF1', cell], waybill, 'plain')).toThrow(expect.objectContaining({ reason: 'expected_number', path: 'weightGrams' }));
      });
    }
    expect(decodeCsvRow(plan, ['SF1', ' 1250.5 '], waybill, 'plain')).toMatchObject({ weightGrams: 1250.5 });
  });
});

describe('length caps: a field past its kind cap is refused before masking, with a typed error and no value', () => {
  const paths: Record<string, (w: ReturnType<typeof sampleWaybill>, v: string) => void> = {
    'sender.name': (w, v) => (w.sender.name = v),
    'sender.mobile': (w, v) => (w.sender.mobile = v),
    'sender.idNumber': (w, v) => (w.sender.idNumber = v),
    'receiver.address.detail': (w, v) => (w.receiver.address.detail = v),
    'receiver.virtualNumber': (w, v) => (w.receiver.virtualNumber = { main: v, ext: '1234' }),
    remark: (w, v) => (w.remark = v),
  };

  it.each(Object.keys(paths))('%s: 1 MB of a secret-looking run → ValidationError too_long, within the budget', async (path) => {
    const { sealer } = freshSealer();
    const w = sampleWaybill();
    const secret = '13812345678 科技园路1号3栋2单元501室 ';
    paths[path]!(w, run('', secret, MB, ''));
    const start = performance.now();
    const error = await sealer.seal(waybill, w).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(performance.now() - start).toBeLessThan(BUDGET_MS);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).reason).toBe('too_long');
    expect((error as ValidationError).path).toBe(path);
    expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain('13812345678');
  });

  it('a value at its cap still seals (the cap is not off by one)', async () => {
    const { sealer } = freshSealer();
    const w = sampleWaybill();
    w.remark = '请'.repeat(MAX_VALUE_LENGTH.text);
    w.receiver.address.detail = `${'文'.repeat(MAX_VALUE_LENGTH.addressDetail - 4)}501室`;
    await expect(sealer.seal(waybill, w)).resolves.toBeDefined();
    w.remark += '请';
    await expect(sealer.seal(waybill, w)).rejects.toMatchObject({ reason: 'too_long', path: 'remark' });
  });
});
