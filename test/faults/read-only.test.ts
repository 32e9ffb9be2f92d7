/**
 * Issue 18: a read-only key file or audit log names its cause and file (EROFS, never "internal
 * error") and changes nothing.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, jsonl } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';
import { canMountTmpfs, mountTmpfs, type Tmpfs } from './fs.js';

const rows = (n: number, from = 0, month = '03') =>
  Array.from({ length: n }, (_, i) => ({ ...sampleWaybill(), waybillNo: `SF${String(from + i + 1).padStart(10, '0')}`, createdAt: `2025-${month}-01T08:30:00+08:00` }));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-faults-ro-'));
});

describe.skipIf(!canMountTmpfs)('a read-only file system (tmpfs remounted read-only; needs root)', () => {
  let fs: Tmpfs;
  let keys: string;
  let audit: string;
  let sealed: string;
  beforeAll(async () => {
    fs = mountTmpfs(1024)!;
    keys = join(fs.dir, 'keys.json');
    audit = join(fs.dir, 'keys.audit.jsonl');
    expect((await cli(['keygen', '--out', keys])).code).toBe(0);
    const s = await cli(['seal', '--keys', keys], jsonl(rows(3)));
    expect(s.code).toBe(0);
    sealed = s.stdout;
    fs.readOnly();
  }, 120_000);
  afterAll(() => fs?.unmount());

  it('sealing a new month (a data key to store) exits 1 naming EROFS and the key file', async () => {
    const before = await readFile(keys, 'utf8');
    const r = await cli(['seal', '--keys', keys], jsonl(rows(2, 10, '04')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`EROFS: read-only file system (creating lock|writing) ${keys}`));
    expect(r.stderr).not.toMatch(/internal error|INTERNAL/);
    expect(await readFile(keys, 'utf8')).toBe(before);
  });

  it('open with its audit log there exits 1 naming EROFS and the log, and opens nothing', async () => {
    const r = await cli(['open', '--keys', keys, '--principal', 'cs-1', '--purpose', 'customer-service', '--ticket', 'T-1', '--quota-state', join(dir, 'q.json')], sealed);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`EROFS: read-only file system (creating lock|opening|writing) ${audit}`));
    expect(r.stdout).toBe('');
  });

  it('months already keyed still seal (reading a read-only key file is fine)', async () => {
    expect((await cli(['seal', '--keys', keys], jsonl(rows(2, 20)))).code).toBe(0);
  });
});

