/**
 * Issue 18, finding 2: a lock whose holder is gone (kill -9) is taken over by the next command
 * without a person, and the takeover is reported; a live holder is waited for and named.
 * (test/faults/kill.slow.test.ts kills each locking command at random points; `npm run faults`.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, jsonl } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';

const months = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ ...sampleWaybill(), waybillNo: `SF${String(i + 1).padStart(10, '0')}`, createdAt: `2025-${String(i + 1).padStart(2, '0')}-01T08:30:00+08:00` }));
const deadPid = () => spawnSync('true').pid!;
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.endsWith('.lock') || n.endsWith('.break'));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-faults-locks-'));
});

describe('a lock whose holder is gone is taken over, and the takeover reported', () => {
  it.each([
    ['a holder record (pid, host, start time) of a dead process', () => JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: '2025-03-01T00:00:00.000Z' })],
    ['a bare pid (earlier versions of the audit and quota locks)', () => `${deadPid()}\n`],
  ])('%s: seal, then open, run at once', async (_, holder) => {
    const keys = join(dir, `keys-${Math.random()}.json`);
    expect((await cli(['keygen', '--out', keys])).code).toBe(0);
    await writeFile(`${keys}.lock`, holder());
    const sealed = await cli(['seal', '--keys', keys], jsonl(months(3)));
    expect(sealed.code).toBe(0);
    expect(sealed.stderr).toMatch(/took over stale lock .*\.json\.lock \(holder .* is no longer running\)/);

    await writeFile(`${keys.replace(/\.json$/, '')}.audit.jsonl.lock`, holder());
    await writeFile(`${keys.replace(/\.json$/, '')}.quota.json.lock`, holder());
    const r = await cli(['open', '--keys', keys, '--principal', 'ops-1', '--purpose', 'export', '--approval', 'EXP-1'], sealed.stdout);
    expect(r.code).toBe(0);
    expect(r.stderr.match(/took over stale lock/g)).toHaveLength(2);
    expect(leftovers(dir)).toEqual([]);
  });

  it('an anonymous lock (an earlier key-store lock: empty) is taken over once older than 10 s, not before', async () => {
    const keys = join(dir, 'keys-anon.json');
    expect((await cli(['keygen', '--out', keys])).code).toBe(0);
    await writeFile(`${keys}.lock`, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(`${keys}.lock`, old, old);
    expect((await cli(['seal', '--keys', keys], jsonl(months(1)))).code).toBe(0);
    expect(existsSync(`${keys}.lock`)).toBe(false);
  });

  it('a lock held by a running process is waited for, and the error names the holder', async () => {
    const keys = join(dir, 'keys-live.json');
    expect((await cli(['keygen', '--out', keys])).code).toBe(0);
    await writeFile(`${keys}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2025-03-01T00:00:00.000Z' }));
    const r = await cli(['keys', 'rotate', '--keys', keys]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lock file ${keys}.lock is held by pid ${process.pid} on ${hostname()} since 2025-03-01T00:00:00.000Z`);
    await unlink(`${keys}.lock`);
  });
});

