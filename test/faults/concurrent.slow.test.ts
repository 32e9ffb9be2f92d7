/**
 * Issue 18: 4 concurrent writers share one key file and one quota state without losing a data key
 * or overshooting a quota. Slow (a minute under load): in `npm run faults` only.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, jsonl } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';

const rows = (n: number, from = 0, month = '03') =>
  Array.from({ length: n }, (_, i) => ({ ...sampleWaybill(), waybillNo: `SF${String(from + i + 1).padStart(10, '0')}`, createdAt: `2025-${month}-01T08:30:00+08:00` }));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-faults-conc-'));
});

describe('4 concurrent writers', () => {
  it('4 seals adding data keys to one key file at once: every key kept, every record opens', async () => {
    const keys = join(dir, 'shared-keys.json');
    expect((await cli(['keygen', '--out', keys])).code).toBe(0);
    const inputs = await Promise.all([0, 1, 2, 3].map(async (p) => {
      const file = join(dir, `in-${p}.jsonl`);
      // Each process seals 12 months: 48 new data keys per process, most of them contended.
      await writeFile(file, jsonl(Array.from({ length: 12 }, (_, m) => rows(1, p * 100 + m, String(m + 1).padStart(2, '0'))[0])));
      return file;
    }));
    const runs = await Promise.all(inputs.map((file, p) => cli(['seal', '--keys', keys, '--in', file, '--out', join(dir, `sealed-${p}.jsonl`)])));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const file = JSON.parse(await readFile(keys, 'utf8'));
    // One data key per class and month, whoever created it first; the others reused it.
    const ids = file.dataKeys.map((k: { id: string }) => k.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (let p = 0; p < 4; p++) {
      const r = await cli(['open', '--keys', keys, '--principal', 'ops', '--purpose', 'export', '--approval', `EXP-${p}`, '--in', join(dir, `sealed-${p}.jsonl`)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).receiver.name)).toEqual(Array(12).fill('欧阳娜娜'));
    }
    expect(readdirSync(dir).filter((n) => n.startsWith('shared-keys.json.'))).toEqual([]);
  });

  it('4 opens sharing one quota state: exactly the 200 opens an hour the policy allows, across all of them', async () => {
    const keys = join(dir, 'quota-keys.json');
    expect((await cli(['keygen', '--out', keys])).code).toBe(0);
    const sealed = await cli(['seal', '--keys', keys], jsonl(rows(100)));
    const quota = join(dir, 'shared.quota.json');
    const runs = await Promise.all([0, 1, 2, 3].map((p) =>
      cli(['open', '--keys', keys, '--principal', 'cs-9', '--purpose', 'customer-service', '--ticket', `T-${p}`, '--quota-state', quota, '--audit', join(dir, `audit-${p}.jsonl`)], sealed.stdout),
    ));
    for (const r of runs) expect([0, 3], r.stderr).toContain(r.code);
    let opened = 0;
    for (let p = 0; p < 4; p++) {
      const events = (await readFile(join(dir, `audit-${p}.jsonl`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).event);
      opened += events.filter((e) => e.type === 'access' && (e.outcome === 'opened' || e.outcome === 'partial')).length;
    }
    expect(opened).toBe(200);
    expect(existsSync(`${quota}.lock`)).toBe(false);
  });
});
