/**
 * Sealed files written by an earlier release keep opening: the committed ws1 fixtures
 * (test/fixtures/sealed-ws1.*, written once by generate-ws1.ts, never regenerated) are opened,
 * masked and inspected by the current CLI, from JSON Lines and from CSV.
 */
import { copyFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, lines, openedLines } from './run.js';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;
let dir: string;
let keys: string;
let plain: unknown[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-fixture-'));
  // A copy: open writes its audit log and quota state next to the key file, and wants mode 0600.
  keys = join(dir, 'keys.json');
  await copyFile(fixture('sealed-ws1.keys.json'), keys);
  const { chmod } = await import('node:fs/promises');
  await chmod(keys, 0o600);
  plain = lines(await readFile(fixture('plain-ws1.jsonl'), 'utf8'));
});

const exportArgs = ['open', '--keys', () => keys, '--principal', 'fixture-test', '--purpose', 'export', '--approval', 'FIXTURE', '--budget', '1000'];
const args = () => exportArgs.map((a) => (typeof a === 'function' ? a() : a));

describe('committed ws1 fixtures', () => {
  it('sealed-ws1.jsonl opens to the committed plain records', async () => {
    const r = await cli([...args(), '--in', fixture('sealed-ws1.jsonl')]);
    // The key file predates per-month index keys: said once, with the steps to take.
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^warning: key file .*keys\.json: it has no KEK for contact-index, .*"waybill-seal keys add-index-keks --keys .*"; it holds an index secret that nothing uses any more: .*"waybill-seal keys drop-index-secret --keys .*"$/),
    ]);
    expect(r.code).toBe(0);
    expect(openedLines(r.stdout)).toEqual(plain);
  });

  it('sealed-ws1.csv opens to the same records (JSON Lines out), with --jobs 2 too', async () => {
    for (const jobs of ['1', '2']) {
      const r = await cli([...args(), '--in', fixture('sealed-ws1.csv'), '--out-format', 'jsonl', '--jobs', jobs]);
      expect(r.code).toBe(0);
      expect(openedLines(r.stdout)).toEqual(plain);
    }
  });

  it('masks and inspects without keys; every field is ws1', async () => {
    const masked = await cli(['mask', '--profile', 'label', '--in', fixture('sealed-ws1.jsonl')]);
    expect(masked.code).toBe(0);
    expect(lines(masked.stdout)[12].sender.mobile).toBe('*******5678');
    const info = await cli(['inspect', '--in', fixture('sealed-ws1.csv'), '--out-format', 'csv']);
    expect(info.code).toBe(0);
    const rows = parse(info.stdout, { columns: true }) as { version: string; suite: string }[];
    expect(rows.length).toBeGreaterThan(14 * 6);
    expect(new Set(rows.map((r) => r.version))).toEqual(new Set(['ws1']));
  });

  it('keys add-index-keks, then drop-index-secret: the notice is gone and every record still opens', async () => {
    const before = JSON.parse(await readFile(keys, 'utf8')) as { secrets: Record<string, unknown>; keks: { keys: Record<string, string> }[] };
    expect(before.secrets['index']).toBeDefined();
    const added = await cli(['keys', 'add-index-keks', '--keys', keys, '--json']);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout).added).toEqual(['contact-index', 'address-index', 'identity-index', 'note-index']);
    expect(JSON.parse((await cli(['keys', 'add-index-keks', '--keys', keys, '--json'])).stdout).added).toEqual([]);
    const half = await cli([...args(), '--in', fixture('sealed-ws1.jsonl')]);
    expect(half.stderr).not.toContain('add-index-keks');
    expect(half.stderr).toContain('drop-index-secret');
    expect((await cli(['keys', 'drop-index-secret', '--keys', keys])).code).toBe(0);
    const after = JSON.parse(await readFile(keys, 'utf8')) as typeof before;
    expect(after.secrets['index']).toBeUndefined();
    expect(after.secrets['integrity']).toEqual(before.secrets['integrity']);
    for (const [c, k] of Object.entries(before.keks[0]!.keys)) expect(after.keks[0]!.keys[c]).toBe(k);
    const r = await cli([...args(), '--in', fixture('sealed-ws1.jsonl')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(openedLines(r.stdout)).toEqual(plain);
  });

  it('the JSON Lines and CSV fixtures hold the same sealed records', async () => {
    const r = await cli(['convert', '--in', fixture('sealed-ws1.csv'), '--out-format', 'jsonl']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await readFile(fixture('sealed-ws1.jsonl'), 'utf8'));
  });
});
