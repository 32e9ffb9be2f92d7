import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, lines as jsonLines } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';

describe('waybill-seal verify', () => {
  it('checks every line with a verify-only key file; exit 0 when intact, 2 with the failing path otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-verify-'));
    const keys = join(dir, 'keys.json');
    expect((await cli(['keygen', '--out', keys])).code).toBe(0);
    await writeFile(join(dir, 'plain.jsonl'), [sampleWaybill(), { ...sampleWaybill(), waybillNo: 'SF2' }].map((r) => JSON.stringify(r)).join('\n'));
    expect((await cli(['seal', '--keys', keys, '--in', join(dir, 'plain.jsonl'), '--out', join(dir, 'sealed.jsonl')])).code).toBe(0);
    // What a label printer gets: the integrity secret alone.
    const full = JSON.parse(await readFile(keys, 'utf8'));
    const printer = join(dir, 'printer.json');
    await writeFile(printer, JSON.stringify({ secrets: { integrity: full.secrets.integrity } }), { mode: 0o600 });

    const ok = await cli(['verify', '--keys', printer, '--in', join(dir, 'sealed.jsonl')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ line: 1, ok: true }, { line: 2, ok: true }]);

    const lines = (await readFile(join(dir, 'sealed.jsonl'), 'utf8')).trim().split('\n');
    const second = JSON.parse(lines[1]!);
    second.receiver.address.district = '余杭区';
    await writeFile(join(dir, 'tampered.jsonl'), [lines[0], JSON.stringify(second), '{oops'].join('\n'));
    const bad = await cli(['verify', '--keys', printer, '--in', join(dir, 'tampered.jsonl')]);
    expect(bad.code).toBe(2);
    expect(bad.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { line: 1, ok: true },
      { line: 2, ok: false, path: 'receiver.address.district', reason: 'altered' },
    ]);
    // A line that is not a record is rejected like in every bulk command (reason code, never content).
    expect(bad.stderr).toMatch(/line 3: rejected: INVALID_JSON/);
    expect(bad.stderr).toMatch(/1 of the records failed verification/);
    expect(bad.stdout + bad.stderr).not.toContain('余杭区');
    expect((await cli(['verify', '--in', join(dir, 'sealed.jsonl')])).code).toBe(1);

    // CSV in and out, over two worker threads, rejects to a file: the same verdicts in input order.
    const sealedCsv = join(dir, 'sealed.csv');
    expect((await cli(['convert', '--in', join(dir, 'tampered.jsonl'), '--out', sealedCsv, '--quiet'])).code).toBe(2);
    const rejects = join(dir, 'rejects.jsonl');
    const csv = await cli(['verify', '--keys', printer, '--in', sealedCsv, '--out-format', 'csv', '--jobs', '2', '--rejects', rejects, '--quiet']);
    expect(csv.code).toBe(2);
    expect(csv.stdout.trim().split('\n')).toEqual(['line,ok,path,reason', '2,true,,', '3,false,receiver.address.district,altered']);
    expect(await readFile(rejects, 'utf8')).toBe('');
    const jobs = await cli(['verify', '--keys', printer, '--in', join(dir, 'tampered.jsonl'), '--jobs', '2', '--rejects', rejects, '--quiet']);
    expect(jsonLines(jobs.stdout)).toEqual([{ line: 1, ok: true }, { line: 2, ok: false, path: 'receiver.address.district', reason: 'altered' }]);
    expect(jsonLines(await readFile(rejects, 'utf8'))).toEqual([{ line: 3, code: 'INVALID_JSON', message: 'INVALID_JSON' }]);
  });
});
