import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sampleWaybill } from '../helpers.js';

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const exec = promisify(execFile);
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node', [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

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
      { line: 3, ok: false, path: '', reason: 'invalid_json' },
    ]);
    expect(bad.stdout + bad.stderr).not.toContain('余杭区');
    expect((await cli(['verify', '--in', join(dir, 'sealed.jsonl')])).code).toBe(1);
  });
});
