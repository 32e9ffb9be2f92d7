/**
 * Issue 18, findings 2, 3 and 4: kill -9 at random points of every locking command (seal writing
 * data keys, keys rewrap, reseal, shred, open with its audit log and quota state), then run it
 * again without a person: stale locks are taken over, nothing is lost or duplicated, and no temp
 * file holding key material outlives the run (keys retire destroys leftovers). Slow: in
 * `npm run faults` only (FAULT_ROUNDS kills per command, FAULT_SEED the kill points).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, jsonl } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';

/** Deterministic "random" kill points (mulberry32); FAULT_SEED changes them. */
let seed = Number(process.env['FAULT_SEED'] ?? 18);
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const ROUNDS = Number(process.env['FAULT_ROUNDS'] ?? 3);

/** Starts the CLI and SIGKILLs it after `ms` (if still running). Resolves with how it ended. */
function killAfter(args: string[], ms: number, input?: string): Promise<{ killed: boolean; code: number | null }> {
  const child = spawn('node', [BIN, ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin.on('error', () => undefined);
  child.stdin.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', code });
    });
  });
}

const months = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    ...sampleWaybill(),
    waybillNo: `SF${String(i + 1).padStart(10, '0')}`,
    createdAt: `${2000 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01T08:30:00+08:00`,
  }));
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.endsWith('.lock') || n.endsWith('.break'));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-faults-kill-'));
});

describe('kill -9 at random points, then the same command again', () => {
  let keys: string;
  let sealed: string;
  const records = months(48); // 4 years of months: 48 scopes, ~200 data keys
  beforeAll(async () => {
    keys = join(dir, 'keys.json');
    expect((await cli(['keygen', '--out', keys])).code).toBe(0);
    sealed = join(dir, 'sealed.jsonl');
    await writeFile(join(dir, 'plain.jsonl'), jsonl(records));
    // seal writes the key store (one data key per class and month): killed and re-run.
    for (let i = 0; i < ROUNDS; i++) await killAfter(['seal', '--keys', keys, '--in', join(dir, 'plain.jsonl'), '--out', sealed, '--force'], 300 + random() * 2500);
    const r = await cli(['seal', '--keys', keys, '--in', join(dir, 'plain.jsonl'), '--out', sealed, '--force']);
    expect(r.code).toBe(0);
  }, 300_000);

  it('seal: the output of a killed run never looks complete; the re-run writes every record once', async () => {
    const out = (await readFile(sealed, 'utf8')).trim().split('\n');
    expect(out.map((l) => JSON.parse(l).waybillNo)).toEqual(records.map((r) => r.waybillNo));
    const opened = await cli(['open', '--keys', keys, '--principal', 'aud-1', '--purpose', 'audit', '--ticket', 'T-1', '--in', sealed, '--out', join(dir, 'check.jsonl')]);
    expect(opened.code, opened.stderr).toBe(0);
    expect(leftovers(dir)).toEqual([]);
  });

  it('keys rotate + rewrap killed and re-run, then retire: no temp file or file in the folder still holds a retired KEK', async () => {
    const v1 = JSON.parse(await readFile(keys, 'utf8')).keks.find((k: { version: number }) => k.version === 1);
    const v1Keys = Object.values(v1.keys as Record<string, string>);
    expect((await cli(['keys', 'rotate', '--keys', keys])).code).toBe(0);
    const outcomes = [];
    for (let i = 0; i < ROUNDS; i++) outcomes.push(await killAfter(['keys', 'rewrap', '--keys', keys], 300 + random() * 2500));
    const r = await cli(['keys', 'rewrap', '--keys', keys]);
    expect(r.code, r.stderr).toBe(0);
    const retire = await cli(['keys', 'retire', '--version', '1', '--keys', keys]);
    expect(retire.code, retire.stderr).toBe(0);
    expect(leftovers(dir)).toEqual([]);
    for (const name of readdirSync(dir)) {
      const text = await readFile(join(dir, name), 'utf8').catch(() => '');
      for (const k of v1Keys) expect(text.includes(k), `${name} holds a v1 KEK`).toBe(false);
    }
    // Every record still opens under the re-wrapped keys.
    const opened = await cli(['open', '--keys', keys, '--principal', 'ops-1', '--purpose', 'export', '--approval', 'EXP-9', '--budget', '500', '--in', sealed]);
    expect(opened.stderr).not.toContain('rejected');
  });

  it('reseal killed and re-run: every record once, in order, all under new data keys', async () => {
    const out = join(dir, 'resealed.jsonl');
    const args = ['reseal', '--keys', keys, '--in', sealed, '--out', out, '--quiet'];
    for (let i = 0; i < ROUNDS; i++) await killAfter(args, 300 + random() * 3000);
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.waybillNo)).toEqual(records.map((r) => r.waybillNo));
    expect(leftovers(dir)).toEqual([]);
  });

  it('open (audit log + quota state) killed and re-run: the audit log verifies and the quota counts only completed opens', async () => {
    const audit = join(dir, 'open.audit.jsonl');
    const quota = join(dir, 'open.quota.json');
    const args = ['open', '--keys', keys, '--principal', 'ops-2', '--purpose', 'export', '--approval', 'EXP-2', '--budget', '100000', '--audit', audit, '--quota-state', quota, '--in', sealed, '--out', join(dir, 'opened.jsonl'), '--force'];
    for (let i = 0; i < ROUNDS; i++) await killAfter(args, 300 + random() * 2500);
    const r = await cli(args);
    expect([0, 3], r.stderr).toContain(r.code);
    expect((await cli(['audit', 'verify', '--keys', keys, audit])).code).toBe(0);
    expect(leftovers(dir)).toEqual([]);
  });

  it('shred killed and re-run: the months before the cut-off are shredded', async () => {
    const args = ['shred', '--keys', keys, '--before', '2002-01', '--audit', join(dir, 'shred.audit.jsonl')];
    for (let i = 0; i < ROUNDS; i++) await killAfter(args, 200 + random() * 1500);
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    const file = JSON.parse(await readFile(keys, 'utf8'));
    const live = file.dataKeys.filter((k: { id: string; shreddedAt?: string }) => k.shreddedAt === undefined && /\/200[01]-/.test(k.id));
    expect(live).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  });
});
