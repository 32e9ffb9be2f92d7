/**
 * Audit chain checks that are easy to lose (issue 18, mutation testing), written as the attacks
 * they stop: an insider holding the audit secret who rewrites history must still be caught by a
 * checkpoint recorded elsewhere, and lines that merely look like chained lines are refused.
 */
import { describe, expect, it } from 'vitest';
import { AuditChain, deriveAuditKey, verifyAuditLog, type AccessEvent } from '../../src/index.js';
import { AuditVerifier, checkAuditLine, GENESIS, parseAuditLine } from '../../src/access/audit.js';

const key = deriveAuditKey(new Uint8Array(32).fill(7));
const event = (i: number, principal = `p-${i}`): AccessEvent => ({
  type: 'access', time: '2025-03-01T00:00:00.000Z', principal, purpose: 'deliver', schema: 'waybill', schemaVersion: 1,
  recordId: `SF${i}`, requested: '*', opened: [], withheld: [], outcome: 'opened', evidence: {},
});
const chain = (events: AccessEvent[]) => {
  const c = new AuditChain(key);
  return { lines: events.map((e) => c.next(e)), head: c.head };
};

describe('checkpoints', () => {
  const original = chain([1, 2, 3, 4].map((i) => event(i)));
  // The insider holds the key: rewrites entry 2 and re-chains everything after it. Every line verifies.
  const rewritten = chain([event(1), event(2, 'someone-else'), event(3), event(4)]);

  it('a history re-chained by a key holder verifies on its own, and fails at the checkpoint entry with "differs from the checkpoint"', () => {
    expect(verifyAuditLog(rewritten.lines, key)).toMatchObject({ ok: true, lines: 4 });
    const checkpoint = { seq: 3, mac: chain([1, 2, 3].map((i) => event(i))).head.mac };
    const r = verifyAuditLog(rewritten.lines, key, { checkpoint });
    expect(r).toMatchObject({ ok: false, line: 3, reason: 'altered', message: 'line 3: entry 3 differs from the checkpoint' });
    expect(verifyAuditLog(original.lines, key, { checkpoint })).toMatchObject({ ok: true, lines: 4 });
  });

  it('a checkpoint at the last entry passes; one past the end reports truncated one line past the end', () => {
    expect(verifyAuditLog(original.lines, key, { checkpoint: original.head })).toEqual({ ok: true, lines: 4, head: original.head });
    const beyond = { seq: 6, mac: original.head.mac };
    expect(verifyAuditLog(original.lines, key, { checkpoint: beyond })).toMatchObject({
      ok: false, line: 5, reason: 'truncated', head: original.head,
      message: 'log ends at entry 4, the checkpoint names entry 6 (lines cut off the end)',
    });
  });

  it('the genesis checkpoint fits an empty log; an empty log is not "truncated" against it', () => {
    expect(verifyAuditLog('', key, { checkpoint: GENESIS })).toEqual({ ok: true, lines: 0, head: GENESIS });
    expect(verifyAuditLog([], key, { checkpoint: { seq: 1, mac: original.head.mac } })).toMatchObject({ ok: false, reason: 'truncated', line: 1 });
  });

  it('after the first failure the verifier keeps reporting it (later good lines do not clear it)', () => {
    const v = new AuditVerifier(key);
    expect(v.push('garbage')).toMatchObject({ ok: false, line: 1, reason: 'malformed' });
    expect(v.push(original.lines[0]!)).toMatchObject({ ok: false, line: 1, reason: 'malformed' });
    expect(v.finish()).toMatchObject({ ok: false, line: 1 });
  });

  it('messages say whether entries went missing or came again', () => {
    expect(verifyAuditLog([original.lines[0]!, original.lines[2]!], key)).toMatchObject({
      line: 2, reason: 'out_of_sequence', message: 'line 2: holds entry 3 where 2 was expected (entries removed or moved)',
    });
    expect(verifyAuditLog([original.lines[0]!, original.lines[1]!, original.lines[0]!], key)).toMatchObject({
      line: 3, reason: 'out_of_sequence', message: 'line 3: holds entry 1 again after 2 (lines reordered or duplicated)',
    });
  });
});

describe('line structure', () => {
  const [line] = chain([event(1)]).lines;

  it('a good line parses to its parts, the MAC covering the bytes before ,"mac":', () => {
    const p = parseAuditLine(line!)!;
    expect(p).toMatchObject({ seq: 1, prev: '', event: event(1) });
    expect(line!.startsWith(p.body)).toBe(true);
    expect(line!.slice(p.body.length)).toBe(`,"mac":"${p.mac}"}`);
    expect(checkAuditLine(line!, key)).toEqual(p);
  });

  it('look-alikes are refused: wrong version, extra bytes, short or non-base64url MAC, sequence 0, non-object event', () => {
    const p = parseAuditLine(line!)!;
    const bad = [
      line!.replace('"v":"wsa1"', '"v":"wsa2"'),
      `${line!} `,
      line!.replace(`"mac":"${p.mac}"`, `"mac":"${p.mac.slice(1)}"`),
      line!.replace(`"mac":"${p.mac}"`, `"mac":"${'*'.repeat(43)}"`),
      line!.replace('"seq":1', '"seq":0'),
      line!.replace('"seq":1', '"seq":1.5'),
      line!.replace('"prev":""', '"prev":1'),
      line!.replace(/"event":\{.*\},"mac"/, '"event":[],"mac"'),
      line!.slice(0, -1),
      'null',
    ];
    for (const b of bad) {
      expect(parseAuditLine(b)).toBeUndefined();
      expect(checkAuditLine(b, key)).toBeUndefined();
    }
  });

  it('a line under another key parses but does not check', () => {
    expect(parseAuditLine(line!)).toBeDefined();
    expect(checkAuditLine(line!, deriveAuditKey(new Uint8Array(32).fill(8)))).toBeUndefined();
  });

  it('keys shorter than 128 bits (secret) or not 256 bits (chain) are refused', () => {
    expect(() => deriveAuditKey(new Uint8Array(15))).toThrow(/at least 128 bits/);
    expect(deriveAuditKey(new Uint8Array(16))).toHaveLength(32);
    expect(() => new AuditChain(new Uint8Array(31))).toThrow(/256 bits/);
    expect(() => new AuditChain(new Uint8Array(33))).toThrow(/256 bits/);
  });
});
