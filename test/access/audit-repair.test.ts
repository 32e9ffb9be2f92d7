/**
 * Issue 18, finding 5: a crash or a full disk can end the audit log mid-line; then every open is
 * refused (correctly) and `audit repair` is the way back: it cuts off the torn line only after the
 * chain before it verifies, and never rewrites or removes a complete line.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditChain, deriveAuditKey, verifyAuditLog, type AccessEvent } from '../../src/index.js';
import { JsonlAuditSink } from '../../src/node.js';
import { repairAuditFile } from '../../src/node/audit-file-sink.js';

const key = deriveAuditKey(new Uint8Array(32).fill(7));
const event = (i: number): AccessEvent => ({
  type: 'access', time: '2025-03-01T00:00:00.000Z', principal: `p-${i}`, purpose: 'deliver', schema: 'waybill', schemaVersion: 1,
  recordId: `SF${i}`, requested: '*', opened: [], withheld: [], outcome: 'opened', evidence: {},
});
const lines = (n: number) => {
  const c = new AuditChain(key);
  return Array.from({ length: n }, (_, i) => c.next(event(i + 1)));
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-audit-repair-'));
});
const file = async (name: string, text: string) => {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
};

describe('repairAuditFile', () => {
  it('cuts off a torn last line, reports its size and the verified head; the sink then extends the log', async () => {
    const all = lines(4);
    const torn = all[3]!.slice(0, 57);
    const path = await file('torn.jsonl', `${all.slice(0, 3).join('\n')}\n${torn}`);
    await expect(JsonlAuditSink.open(path, key)).rejects.toThrow(/ends with a partial line .*audit repair/);
    const r = await repairAuditFile(path, key);
    const head = verifyAuditLog(all.slice(0, 3), key);
    expect(r).toEqual({ action: 'truncated', bytes: 57, head: head.head });
    expect(await readFile(path, 'utf8')).toBe(`${all.slice(0, 3).join('\n')}\n`);
    const sink = await JsonlAuditSink.open(path, key, { sync: false });
    await sink.write(event(9));
    await sink.close();
    expect(verifyAuditLog(await readFile(path, 'utf8'), key)).toMatchObject({ ok: true, lines: 4 });
  });

  it('a log of one torn line becomes empty', async () => {
    const path = await file('only-torn.jsonl', lines(1)[0]!.slice(0, 20));
    expect(await repairAuditFile(path, key)).toMatchObject({ action: 'truncated', bytes: 20, head: { seq: 0, mac: '' } });
    expect(await readFile(path, 'utf8')).toBe('');
  });

  it('never rewrites a complete line: a log ending on a newline is left byte for byte', async () => {
    const text = `${lines(3).join('\n')}\n`;
    const path = await file('whole.jsonl', text);
    expect(await repairAuditFile(path, key)).toMatchObject({ action: 'none', verification: { ok: true, lines: 3 } });
    expect(await readFile(path, 'utf8')).toBe(text);
  });

  it('a last line whole but for its newline, continuing the chain, keeps its event: the newline is added', async () => {
    const all = lines(3);
    const path = await file('no-newline.jsonl', all.join('\n'));
    const r = await repairAuditFile(path, key);
    expect(r).toMatchObject({ action: 'completed', head: { seq: 3 } });
    expect(await readFile(path, 'utf8')).toBe(`${all.join('\n')}\n`);
  });

  it('a valid line from elsewhere in the chain as the unterminated tail is not "completed" but cut', async () => {
    const all = lines(3);
    const path = await file('replayed-tail.jsonl', `${all.slice(0, 2).join('\n')}\n${all[0]}`);
    expect(await repairAuditFile(path, key)).toMatchObject({ action: 'truncated', head: { seq: 2 } });
  });

  it('changes nothing when the whole lines before the torn one do not verify (tampering is for audit verify)', async () => {
    const all = lines(4);
    const text = `${all[0]}\n${all[2]}\n${all[3]!.slice(0, 30)}`;
    const path = await file('tampered.jsonl', text);
    expect(await repairAuditFile(path, key)).toMatchObject({ action: 'refused', verification: { ok: false, line: 2, reason: 'out_of_sequence' } });
    expect(await readFile(path, 'utf8')).toBe(text);
  });
});
