/**
 * Issue 18, findings 1, 3, 4, 6: every write is checked to the end. On a full disk the CLI exits
 * non-zero naming the cause and the file, leaves no complete-looking output, no truncated key file
 * and no temp files; the audit log still ends on a whole line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, jsonl, keyDir } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';
import { canMountTmpfs, enospcAfter, mountTmpfs, type Tmpfs } from './fs.js';

const rows = (n: number, month = '03') =>
  Array.from({ length: n }, (_, i) => ({ ...sampleWaybill(), waybillNo: `SF${String(i + 1).padStart(10, '0')}`, createdAt: `2025-${month}-01T08:30:00+08:00` }));

let dir: string;
let keys: string;
let plain: string;
let sealed: string;
/** 150 sealed records: under the built-in policy's 200 opens per principal and hour. */
let few: string;
beforeAll(async () => {
  ({ dir, keys } = await keyDir('ws-faults-disk-'));
  plain = join(dir, 'plain.jsonl');
  await writeFile(plain, jsonl(rows(2000)));
  sealed = join(dir, 'sealed.jsonl');
  expect((await cli(['seal', '--keys', keys, '--in', plain, '--out', sealed])).code).toBe(0);
  few = join(dir, 'few.jsonl');
  await writeFile(few, (await readFile(sealed, 'utf8')).split('\n').slice(0, 150).join('\n') + '\n');
}, 120_000);

const tempFiles = (d: string) => readdirSync(d).filter((n) => n.endsWith('.tmp'));

describe('output writes that fail (write stub: ENOSPC after 64 KiB)', () => {
  for (const [command, extra] of [
    ['seal', () => ['--keys', keys, '--in', plain]],
    ['open', () => ['--keys', keys, '--principal', 'ops-1', '--purpose', 'export', '--approval', 'EXP-1', '--budget', '5000', '--in', sealed, '--audit', join(dir, `a-${Math.random()}.jsonl`), '--quota-state', join(dir, `q-${Math.random()}.json`)]],
    ['mask', () => ['--in', sealed]],
  ] as const) {
    it(`${command} --out: exit 1 with "ENOSPC: no space left on device writing <out>", no output file, no temp file`, async () => {
      const out = join(dir, `${command}-out.jsonl`);
      const r = await cli([command, ...extra(), '--out', out], undefined, enospcAfter(/-out\.jsonl/, 64 * 1024));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`ENOSPC: no space left on device writing ${out}`);
      expect(r.stderr).not.toContain('internal error');
      // A file under the asked name would look complete: there is none, and no temp file either.
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((n) => n.startsWith(`${command}-out.jsonl`))).toEqual([]);
    });
  }

  it('a --rejects file that cannot be written stops the run the same way', async () => {
    const bad = join(dir, 'bad-input.jsonl');
    await writeFile(bad, 'not json\n'.repeat(5000));
    const rejects = join(dir, 'rejects-out.jsonl');
    const r = await cli(['seal', '--keys', keys, '--in', bad, '--rejects', rejects, '--quiet'], undefined, enospcAfter(/rejects-out\.jsonl/, 1024));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ENOSPC: no space left on device writing ${rejects}`);
    expect(existsSync(rejects)).toBe(false);
  });

  it('a successful run renames its output into place and leaves no temp file', async () => {
    const out = join(dir, 'ok-out.jsonl');
    const r = await cli(['mask', '--in', sealed, '--out', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(2000);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('a key-store write that fails names its cause and file, stops the run and leaves the key file whole', async () => {
    const k = join(dir, 'keys-stub.json');
    expect((await cli(['keygen', '--out', k])).code).toBe(0);
    const before = await readFile(k, 'utf8');
    const r = await cli(['seal', '--keys', k, '--in', plain], undefined, enospcAfter(/keys-stub\.json\.[0-9]+\.[0-9a-f]{12}\.tmp$/, 0));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ENOSPC: no space left on device writing ${k}`);
    expect(r.stderr).not.toContain('INTERNAL');
    expect(r.stderr.split('\n').filter((l) => l.includes('rejected'))).toEqual([]);
    expect(await readFile(k, 'utf8')).toBe(before);
    expect(tempFiles(dir)).toEqual([]);
  });
});

describe.skipIf(!canMountTmpfs)('a real full file system (tmpfs; needs root)', () => {
  let fs: Tmpfs | undefined;
  afterEach(() => {
    fs?.unmount();
    fs = undefined;
  });

  it('seal --out on a full tmpfs: exit 1, the cause named, nothing left on the file system', async () => {
    fs = mountTmpfs(256)!;
    const out = join(fs.dir, 'out.jsonl');
    const r = await cli(['seal', '--keys', keys, '--in', plain, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ENOSPC: no space left on device writing ${out}`);
    expect(readdirSync(fs.dir)).toEqual([]);
  });

  it('sealing a new month with the key file on a full disk: exit 1 naming keys.json, key file unchanged, no temp files', async () => {
    fs = mountTmpfs(256)!;
    const k = join(fs.dir, 'keys.json');
    expect((await cli(['keygen', '--out', k])).code).toBe(0);
    const before = await readFile(k, 'utf8');
    fs.fill();
    const r = await cli(['seal', '--keys', k, '--in', plain, '--out', join(dir, 'month.jsonl')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`ENOSPC: no space left on device (writing|creating lock) ${k}`));
    expect(await readFile(k, 'utf8')).toBe(before);
    expect(readdirSync(fs.dir).sort()).toEqual(['filler', 'keys.json']);
  });

  it('open with the audit log on a full disk: exit 1 naming the log, which still ends on a whole line and verifies', async () => {
    fs = mountTmpfs(256)!;
    const audit = join(fs.dir, 'audit.jsonl');
    const first = await cli(['open', '--keys', keys, '--principal', 'ops-1', '--purpose', 'export', '--approval', 'EXP-2', '--budget', '5000', '--audit', audit, '--quota-state', join(dir, 'q-audit-1.json'), '--in', few, '--out', join(dir, 'opened-1.jsonl')]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    fs.fill(12 * 1024); // room for the lock and a few more lines, then a torn one
    const r = await cli(['open', '--keys', keys, '--principal', 'ops-1', '--purpose', 'export', '--approval', 'EXP-3', '--budget', '5000', '--audit', audit, '--quota-state', join(dir, 'q-audit-2.json'), '--in', few, '--out', join(dir, 'opened-2.jsonl')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ENOSPC: no space left on device writing ${audit}`);
    expect(existsSync(join(dir, 'opened-2.jsonl'))).toBe(false);
    expect((await readFile(audit, 'utf8')).endsWith('\n')).toBe(true);
    const v = await cli(['audit', 'verify', '--keys', keys, audit]);
    expect(v.code).toBe(0);
  });

  it('open with the quota state on a full disk: exit 1 naming the quota file', async () => {
    fs = mountTmpfs(256)!;
    fs.fill();
    const q = join(fs.dir, 'quota.json');
    const r = await cli(['open', '--keys', keys, '--principal', 'ops-1', '--purpose', 'export', '--approval', 'EXP-4', '--budget', '5000', '--audit', join(dir, 'a-q.jsonl'), '--quota-state', q, '--in', sealed, '--out', join(dir, 'opened-q.jsonl')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`ENOSPC: no space left on device (writing|creating lock) ${q}`));
    expect(readdirSync(fs.dir)).toEqual(['filler']);
  });
});

describe('--out onto a device or pipe', () => {
  it('writes into a FIFO in place: the FIFO stays a FIFO and its reader gets every record (a temp file renamed onto /dev/null would replace the device)', async () => {
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = readFile(fifo, 'utf8');
    const r = await cli(['mask', '--in', few, '--out', fifo]);
    expect(r.code).toBe(0);
    expect((await reader).trim().split('\n')).toHaveLength(150);
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('out.fifo'))).toEqual(['out.fifo']);
  });
});
