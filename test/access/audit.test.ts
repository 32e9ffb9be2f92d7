import { mkdtemp, readFile, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AuditChain,
  LocalKeyring,
  auditKey,
  deriveAuditKey,
  generateLocalKeyMaterial,
  verifyAuditLog,
  type AccessEvent,
  type AuditEvent,
} from '../../src/index.js';
import { JsonlAuditSink, verifyAuditFile } from '../../src/node.js';

const key = deriveAuditKey(new Uint8Array(32).fill(7));
const otherKey = deriveAuditKey(new Uint8Array(32).fill(8));

const event = (i: number): AccessEvent => ({
  type: 'access',
  time: new Date(Date.UTC(2025, 2, 1, 0, 0, i)).toISOString(),
  principal: `p-${i % 3}`,
  purpose: 'deliver',
  schema: 'waybill',
  schemaVersion: 1,
  recordId: `SF${i}`,
  requested: '*',
  opened: i % 2 ? ['receiver.mobile'] : [],
  withheld: [],
  outcome: i % 2 ? 'opened' : 'denied',
  ...(i % 2 ? {} : { reason: 'out_of_scope' }),
  evidence: { route: 'R1', ticket: `T"${i}\\,"mac":"` }, // hostile strings stay inside JSON
});

function log(n: number, k = key): string[] {
  const chain = new AuditChain(k);
  return Array.from({ length: n }, (_, i) => chain.next(event(i + 1)));
}

describe('the audit chain', () => {
  it('an untouched log verifies and reports its head', () => {
    const lines = log(50);
    const r = verifyAuditLog(lines, key);
    expect(r).toEqual({ ok: true, lines: 50, head: { seq: 50, mac: JSON.parse(lines[49]!).mac } });
    expect(verifyAuditLog(`${lines.join('\n')}\n`, key)).toMatchObject({ ok: true, lines: 50 });
    expect(verifyAuditLog('', key)).toMatchObject({ ok: true, lines: 0 });
  });

  it('detects an edited line at its line number', () => {
    const lines = log(20);
    const edited = [...lines];
    edited[6] = edited[6]!.replace('"outcome":"opened"', '"outcome":"denied"');
    expect(edited[6]).not.toBe(lines[6]);
    expect(verifyAuditLog(edited, key)).toMatchObject({ ok: false, line: 7, reason: 'altered' });
    const retimed = [...lines];
    retimed[0] = retimed[0]!.replace('2025-03-01', '2025-03-02');
    expect(verifyAuditLog(retimed, key)).toMatchObject({ ok: false, line: 1, reason: 'altered' });
  });

  it('detects a removed line (first, middle, several) and a reordered pair', () => {
    const lines = log(20);
    expect(verifyAuditLog(lines.filter((_, i) => i !== 9), key)).toMatchObject({ ok: false, line: 10, reason: 'out_of_sequence' });
    expect(verifyAuditLog(lines.slice(1), key)).toMatchObject({ ok: false, line: 1, reason: 'out_of_sequence' });
    expect(verifyAuditLog([...lines.slice(0, 4), ...lines.slice(8)], key)).toMatchObject({ ok: false, line: 5 });
    const swapped = [...lines];
    [swapped[11], swapped[12]] = [swapped[12]!, swapped[11]!];
    const r = verifyAuditLog(swapped, key);
    expect(r).toMatchObject({ ok: false, line: 12, reason: 'out_of_sequence' });
    expect(!r.ok && r.message).toContain('line 12: holds entry 13 where 12 was expected');
    const duplicated = [...lines.slice(0, 5), lines[3]!, ...lines.slice(5)];
    expect(verifyAuditLog(duplicated, key)).toMatchObject({ ok: false, line: 6, reason: 'out_of_sequence' });
  });

  it('an insider without the audit secret cannot re-chain: re-signed lines fail', () => {
    const forged = log(10, otherKey);
    expect(verifyAuditLog(forged, key)).toMatchObject({ ok: false, line: 1, reason: 'altered' });
  });

  it('detects a valid line spliced in from another log with the same key', () => {
    const a = log(5);
    const chainB = new AuditChain(key);
    const b = [chainB.next(event(100)), chainB.next(event(101)), chainB.next(event(102))];
    expect(verifyAuditLog([...a.slice(0, 2), b[2]!, ...a.slice(3)], key)).toMatchObject({ ok: false, line: 3, reason: 'chain_broken' });
  });

  it('malformed lines (blank, truncated, not JSON) are reported at their number', () => {
    const lines = log(5);
    expect(verifyAuditLog([lines[0]!, '', ...lines.slice(1)], key)).toMatchObject({ ok: false, line: 2, reason: 'malformed' });
    expect(verifyAuditLog([lines[0]!, lines[1]!.slice(0, -10)], key)).toMatchObject({ ok: false, line: 2, reason: 'malformed' });
    expect(verifyAuditLog(['{"v":"wsa1"}'], key)).toMatchObject({ ok: false, line: 1, reason: 'malformed' });
  });

  it('truncation at the end is invisible to the chain alone, and caught by a checkpoint', () => {
    const lines = log(30);
    const checkpoint = verifyAuditLog(lines.slice(0, 25), key);
    expect(checkpoint.ok).toBe(true);
    const head = checkpoint.head;
    // Later the log has grown; a checkpoint taken earlier still verifies.
    expect(verifyAuditLog(lines, key, { checkpoint: head })).toMatchObject({ ok: true, lines: 30 });
    // Cutting lines off the end verifies without a checkpoint …
    expect(verifyAuditLog(lines.slice(0, 20), key)).toMatchObject({ ok: true, lines: 20 });
    // … and fails against it.
    expect(verifyAuditLog(lines.slice(0, 20), key, { checkpoint: head })).toMatchObject({ ok: false, line: 21, reason: 'truncated' });
    // A log rewritten after the checkpoint (with the key) differs at the checkpoint's entry.
    expect(verifyAuditLog(log(30).map((l, i) => (i === 24 ? new AuditChain(key).next(event(999)) : l)), key, { checkpoint: head })).toMatchObject({
      ok: false,
    });
  });

  it('a rotated log continues from the head of its predecessor', () => {
    const chain = new AuditChain(key);
    const first = Array.from({ length: 5 }, (_, i) => chain.next(event(i)));
    const second = Array.from({ length: 5 }, (_, i) => chain.next(event(10 + i)));
    const head = verifyAuditLog(first, key).head;
    expect(verifyAuditLog(second, key, { start: head })).toMatchObject({ ok: true, lines: 5, head: { seq: 10 } });
    expect(verifyAuditLog(second, key)).toMatchObject({ ok: false, line: 1 });
  });

  it('property: any single-line deletion, edit or adjacent swap is found at the right line', () => {
    const lines = log(40);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 38 }), fc.constantFrom('delete', 'edit', 'swap'), fc.integer({ min: 0, max: 300 }), (i, op, pos) => {
        const t = [...lines];
        if (op === 'delete') t.splice(i, 1);
        else if (op === 'swap') [t[i], t[i + 1]] = [t[i + 1]!, t[i]!];
        else {
          const l = t[i]!;
          const p = pos % (l.length - 1);
          const c = l[p] === 'a' ? 'b' : 'a';
          t[i] = l.slice(0, p) + c + l.slice(p + 1);
        }
        const r = verifyAuditLog(t, key);
        expect(r.ok).toBe(false);
        expect(!r.ok && r.line).toBe(i + 1);
      }),
      { numRuns: 300 },
    );
  });

  it('the chain key comes from the keyring audit secret, domain-separated', async () => {
    const material = generateLocalKeyMaterial();
    const k = await auditKey(new LocalKeyring(material));
    expect(k).toHaveLength(32);
    expect(Buffer.from(k).toString('base64url')).not.toBe(material.secrets!.audit![0]!.key);
    await expect(auditKey(new LocalKeyring({ ...material, secrets: {} }))).rejects.toThrow(/audit/);
  });
});

describe('the JSON Lines audit file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ws-audit-'));
  });

  it('appends chained lines (mode 0600), continues the chain after a reopen, and verifies', async () => {
    const path = join(dir, 'a.jsonl');
    const keyring = new LocalKeyring(generateLocalKeyMaterial());
    const s1 = await JsonlAuditSink.open(path, keyring);
    for (let i = 0; i < 3; i++) await s1.write(event(i));
    expect(s1.head.seq).toBe(3);
    await s1.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const s2 = await JsonlAuditSink.open(path, keyring);
    await Promise.all([s2.write(event(3)), s2.write(event(4))]);
    await s2.close();
    const text = await readFile(path, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(5);
    expect(await verifyAuditFile(path, keyring)).toMatchObject({ ok: true, lines: 5, head: { seq: 5 } });
    expect(verifyAuditLog(text, await auditKey(keyring))).toMatchObject({ ok: true, lines: 5 });
  });

  it('group-commits concurrent writes in chain order, each resolved only after its batch is on disk', async () => {
    const path = join(dir, 'b.jsonl');
    const sink = await JsonlAuditSink.open(path, key);
    const events: AuditEvent[] = Array.from({ length: 500 }, (_, i) => event(i));
    await Promise.all(events.map(async (e, i) => {
      await sink.write(e);
      // durable: the file already holds this line
      expect(sink.head.seq).toBeGreaterThanOrEqual(i + 1);
    }));
    await sink.close();
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).event.recordId)).toEqual(events.map((e) => (e as AccessEvent).recordId));
    expect(verifyAuditLog(lines, key)).toMatchObject({ ok: true, lines: 500 });
  });

  it('one writer per file: a second sink waits for the lock, then continues the chain', async () => {
    const path = join(dir, 'c.jsonl');
    const a = await JsonlAuditSink.open(path, key);
    await expect(JsonlAuditSink.open(path, key, { lockTimeoutMs: 50 })).rejects.toThrow(/lock file/);
    const pending = JsonlAuditSink.open(path, key, { lockTimeoutMs: 5000 });
    await a.write(event(1));
    await a.close();
    const b = await pending;
    await b.write(event(2));
    await b.close();
    expect(await verifyAuditFile(path, key)).toMatchObject({ ok: true, lines: 2 });
  });

  it('refuses to extend a log whose tail does not verify (foreign key, forged or partial line)', async () => {
    const path = join(dir, 'd.jsonl');
    const s = await JsonlAuditSink.open(path, key);
    await s.write(event(1));
    await s.close();
    await expect(JsonlAuditSink.open(path, otherKey)).rejects.toThrow(/does not verify/);
    await appendFile(path, '{"v":"wsa1","seq":2');
    await expect(JsonlAuditSink.open(path, key)).rejects.toThrow(/partial line/);
    await writeFile(path, `${log(3)[0]}\n${log(3, otherKey)[1]}\n`);
    await expect(JsonlAuditSink.open(path, key)).rejects.toThrow(/does not verify/);
    expect(await verifyAuditFile(path, key)).toMatchObject({ ok: false, line: 2, reason: 'altered' });
  });
});
