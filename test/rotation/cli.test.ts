/**
 * `waybill-seal keys …` and `waybill-seal reseal` as users run them (the built bin; npm test
 * builds first), including a real crash: the reseal process is killed with SIGKILL mid-run.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSealer, waybill } from '../../src/index.js';
import { loadKeyFile } from '../../src/node.js';
import { dataKeyIds, waybills } from './fixtures.js';

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { maxBuffer: 256 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let dir: string;
let keys: string;
let plain: ReturnType<typeof waybills>;
const access = { principal: 'cli-test', purpose: 'verify', reveal: 'plain' } as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-keys-cli-'));
  keys = join(dir, 'keys.json');
  expect((await cli(['keygen', '--out', keys])).code).toBe(0);
  plain = waybills(3000, 6);
  await writeFile(join(dir, 'plain.jsonl'), plain.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const sealed = await cli(['seal', '--keys', keys, '--in', join(dir, 'plain.jsonl'), '--out', join(dir, 'sealed.jsonl')]);
  expect(sealed.code).toBe(0);
}, 180_000);

async function openAll(path: string): Promise<unknown[]> {
  const k = await loadKeyFile(keys);
  const sealer = createSealer({ keyring: k.keyring, keyStore: k.keyStore, guard: 'allow-all' });
  const out = [];
  for (const line of (await readFile(path, 'utf8')).trim().split('\n')) out.push((await sealer.open(waybill, JSON.parse(line), access)).record);
  sealer.close();
  return out;
}

describe('waybill-seal keys', () => {
  it('list → rotate → retire refused → rewrap (twice) → retire → rotate numbers the next version 3', async () => {
    const list1 = await cli(['keys', 'list', '--keys', keys, '--json']);
    expect(list1.code).toBe(0);
    const s1 = JSON.parse(list1.stdout);
    expect(s1.versions).toMatchObject([{ version: 1, current: true, dataKeys: 36 }]); // 6 months × (4 classes + 2 indexed classes' index keys)

    const human = await cli(['keys', 'list', '--keys', keys]);
    expect(human.stdout).toMatch(/^\* v1 .* 36 data keys$/m);

    const rot = await cli(['keys', 'rotate', '--keys', keys]);
    expect(rot).toMatchObject({ code: 0 });
    expect(rot.stdout).toMatch(/KEK version 2 added and current/);
    const s2 = JSON.parse((await cli(['keys', 'list', '--keys', keys, '--json'])).stdout);
    expect(s2.versions).toMatchObject([
      { version: 1, current: false, dataKeys: 36 },
      { version: 2, current: true, dataKeys: 0 },
    ]);

    const refused = await cli(['keys', 'retire', '--version', '1', '--keys', keys]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/local:v1:\w+ still wraps \d+ data keys?; run rewrap first/);
    expect((await cli(['keys', 'retire', '--version', '2', '--keys', keys])).stderr).toMatch(/is current/);

    const rw = await cli(['keys', 'rewrap', '--keys', keys, '--json']);
    expect(JSON.parse(rw.stdout)).toMatchObject({ scanned: 36, rewrapped: 36 });
    expect(JSON.parse((await cli(['keys', 'rewrap', '--keys', keys, '--json'])).stdout)).toMatchObject({ rewrapped: 0, alreadyCurrent: 36 });

    expect((await cli(['keys', 'retire', '--version', '1', '--keys', keys])).code).toBe(0);
    const s3 = JSON.parse((await cli(['keys', 'list', '--keys', keys, '--json'])).stdout);
    expect(s3.versions).toMatchObject([{ version: 2, current: true, dataKeys: 36 }]);
    expect(s3.retired.map((r: { version: number }) => r.version)).toEqual([1]);
    expect((await stat(keys)).mode & 0o777).toBe(0o600);

    // Everything sealed before the rotation still opens (CLI open).
    const opened = await cli(['open', '--keys', keys, '--principal', 'u', '--purpose', 'export', '--approval', 'A-1', '--budget', '3000', '--in', join(dir, 'sealed.jsonl')]);
    expect(opened.code).toBe(0);
    expect(opened.stdout.trim().split('\n').length).toBe(3000);
    expect(await openAll(join(dir, 'sealed.jsonl'))).toEqual(plain);

    expect((await cli(['keys', 'rotate', '--keys', keys])).stdout).toMatch(/KEK version 3 added/);
    expect((await cli(['keys', 'rewrap', '--keys', keys])).code).toBe(0);
    expect((await cli(['keys', 'bogus', '--keys', keys])).code).toBe(1);
    expect((await cli(['keys', 'retire', '--keys', keys])).stderr).toMatch(/--version N is required/);
  }, 120_000);
});

describe('waybill-seal reseal', () => {
  it('killed with SIGKILL mid-run and run again: every record once, in order, nothing under a retired key', async () => {
    const out = join(dir, 'resealed.jsonl');
    const checkpoint = `${out}.checkpoint.json`;
    const args = [BIN, 'reseal', '--keys', keys, '--in', join(dir, 'sealed.jsonl'), '--out', out];

    // First run: kill it as soon as its checkpoint shows progress.
    const child = spawn('node', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let killedAt = 0;
    for (let i = 0; i < 600 && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        const cp = JSON.parse(await readFile(checkpoint, 'utf8'));
        if (cp.lines > 0) {
          killedAt = cp.lines;
          child.kill('SIGKILL');
          break;
        }
      } catch {
        // not yet written
      }
    }
    await new Promise((r) => child.once('exit', r));
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(3000);
    const cp = JSON.parse(await readFile(checkpoint, 'utf8'));
    expect(cp.retired.length).toBe(36);

    const again = await cli(args.slice(1));
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/resumed after line \d+; wrote \d+ records/);
    await expect(stat(checkpoint)).rejects.toThrow();

    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines.length).toBe(3000);
    const k = await loadKeyFile(keys);
    const retired = new Set((await k.keyStore.list()).filter((r) => r.retiredAt).map((r) => r.id));
    expect(retired.size).toBe(36);
    expect(lines.flatMap((l) => dataKeyIds(JSON.parse(l))).some((id) => retired.has(id))).toBe(false);
    expect(await openAll(out)).toEqual(plain);

    // Run again: the output exists and the checkpoint is gone, so it refuses (never overwrites).
    const third = await cli(args.slice(1));
    expect(third.code).toBe(1);
    expect(third.stderr).toMatch(/exists; reseal writes a new file/);
  }, 180_000);

  it('draws a progress bar on stderr when asked (as on a TTY)', async () => {
    // Input: the previous run's output (all under live keys), so --only-retired re-seals nothing.
    const out = join(dir, 'resealed-progress.jsonl');
    const r = await cli(['reseal', '--keys', keys, '--in', join(dir, 'resealed.jsonl'), '--out', out, '--only-retired', '--progress']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\[#+\.*\] \d+\.\d% \d+\/3000 lines/);
    expect(r.stderr).toMatch(/wrote 3000 records .*\(0 re-sealed, 0 fields; 36 data keys retired\)/);
    expect(await readFile(out, 'utf8')).toBe(await readFile(join(dir, 'resealed.jsonl'), 'utf8'));
  }, 120_000);
});
