/**
 * `open` output says what happened (issue 15): each record carries `$opened` with the fields opened
 * and, for every other protected field, the reason; shredded records come out masked, not rejected.
 */
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleWaybill } from '../helpers.js';
import { cli, jsonl, lines } from './run.js';

let dir: string;
let keys: string;
let sealed: string;
const PROTECTED = ['sender.name', 'sender.mobile', 'sender.idNumber', 'sender.address.detail', 'receiver.name', 'receiver.mobile', 'receiver.virtualNumber', 'receiver.address.detail', 'remark'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-opened-'));
  keys = join(dir, 'keys.json');
  expect((await cli(['keygen', '--out', keys])).code).toBe(0);
  const r = await cli(['seal', '--keys', keys], jsonl([{ ...sampleWaybill(), routing: { routeId: 'R1' } }, { ...sampleWaybill(), waybillNo: 'SF2' }]));
  expect(r.code).toBe(0);
  sealed = r.stdout;
});

const byPath = (reason: string, paths = PROTECTED) => Object.fromEntries(paths.map((p) => [p, reason]));

describe('$opened', () => {
  it('names the opened fields and why each other one was not: policy, scope, --fields', async () => {
    const r = await cli(['open', '--keys', keys, '--principal', 'c1', '--purpose', 'deliver', '--route', 'R1'], sealed);
    expect(r.code).toBe(0);
    const [inRoute, other] = lines(r.stdout);
    expect(inRoute.$opened).toEqual({
      fields: ['receiver.name', 'receiver.mobile', 'receiver.address.detail'],
      withheld: byPath('field_not_granted', ['sender.name', 'sender.mobile', 'sender.idNumber', 'sender.address.detail', 'receiver.virtualNumber', 'remark']),
    });
    // Denied looks different from opened: the masked record says why.
    expect(other.$opened).toEqual({ fields: [], withheld: byPath('out_of_scope') });
    expect(other.receiver.mobile).toBe('139****4321');
    const some = lines((await cli(['open', '--keys', keys, '--principal', 'c1', '--purpose', 'deliver', '--route', 'R1', '--fields', 'receiver.mobile'], sealed)).stdout)[0];
    expect(some.$opened.fields).toEqual(['receiver.mobile']);
    expect(some.$opened.withheld['receiver.name']).toBe('not_requested');
  });

  it('a shredded record comes out masked with reason shredded, exit 0, instead of being rejected', async () => {
    const shredded = join(dir, 'shredded-keys.json');
    await copyFile(keys, shredded);
    expect((await cli(['shred', '--keys', shredded, '--scope', '2025-03'])).code).toBe(0);
    const r = await cli(['open', '--keys', shredded, '--principal', 'a1', '--purpose', 'audit', '--ticket', 'T-1'], sealed);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/rejected/);
    const out = lines(r.stdout);
    expect(out).toHaveLength(2);
    expect(out[0].receiver.mobile).toBe('139****4321');
    expect(out[0].$opened).toEqual({ fields: [], withheld: byPath('shredded') });
    expect(r.stderr).toMatch(/2 record\(s\) written masked \(shredded: 2\)/);
  });

  it('CSV output has a last column $opened (JSON), from CSV or JSON Lines input, with --jobs 2 too', async () => {
    const csvSealed = await cli(['seal', '--keys', keys, '--out-format', 'csv'], jsonl([{ ...sampleWaybill(), routing: { routeId: 'R1' } }, { ...sampleWaybill(), waybillNo: 'SF2' }]));
    expect(csvSealed.code).toBe(0);
    const deliver = ['open', '--keys', keys, '--principal', 'c1', '--purpose', 'deliver', '--route', 'R1'];
    const runs = [
      await cli([...deliver, '--format', 'csv'], csvSealed.stdout),
      await cli([...deliver, '--format', 'csv', '--jobs', '2'], csvSealed.stdout),
      await cli([...deliver, '--out-format', 'csv'], sealed),
    ];
    for (const r of runs) {
      expect(r.code).toBe(0);
      const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
      expect(r.stdout.split('\n')[0]!.split(',').at(-1)).toBe('$opened');
      expect(rows).toHaveLength(2);
      const [inRoute, other] = rows.map((row) => JSON.parse(row['$opened']!));
      expect(inRoute).toEqual({
        fields: ['receiver.name', 'receiver.mobile', 'receiver.address.detail'],
        withheld: byPath('field_not_granted', ['sender.name', 'sender.mobile', 'sender.idNumber', 'sender.address.detail', 'receiver.virtualNumber', 'remark']),
      });
      // A CSV reader tells the masked row from the opened one by this cell, not by guessing at values.
      expect(other).toEqual({ fields: [], withheld: byPath('out_of_scope') });
      expect(rows[0]!['receiver.mobile']).toBe('+86 139-8765-4321');
      expect(rows[1]!['receiver.mobile']).toBe('139****4321');
    }
    expect((await cli(['open', '--help'])).stdout).toMatch(/CSV output has it as its last column, \$opened/);
  });
});
