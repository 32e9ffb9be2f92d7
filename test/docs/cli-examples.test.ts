/**
 * The README's "Command line" examples run as written, top to bottom, in one directory (issue 15,
 * second newcomer pass C: `find` and `token` lacked `--principal`, `keygen --out keys.json` came twice).
 * Each line runs through `sh` against the built CLI (`npx waybill-seal` → `node dist/cli/main.js`), on
 * the input files the examples name, and must exit 0.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { BIN, cli } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';

const sh = promisify(execFile);
const README = new URL('../../README.md', import.meta.url);
const PARCEL_SCHEMA = new URL('../fixtures/parcel.schema.json', import.meta.url).pathname;

/** The lines of the first sh block after `## Command line`, comments removed. */
async function exampleLines(): Promise<string[]> {
  const text = await readFile(README, 'utf8');
  const section = text.slice(text.indexOf('\n## Command line\n'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .map((l) => l.replace(/\s+# .*$/, '').trim())
    .filter(Boolean);
}

/** The input files the examples read: waybills of March 2025 on route R-7 for outlet HZ-012, as JSON Lines, CSV, mapped CSV and GB18030 CSV, and a parcel record. */
async function writeInputs(dir: string): Promise<void> {
  const base = { ...sampleWaybill(), routing: { routeId: 'R-7', destOutlet: 'HZ-012' } };
  await writeFile(join(dir, 'plain.jsonl'), `${JSON.stringify(base)}\n${JSON.stringify({ ...base, waybillNo: 'SF2' })}\n`);
  expect((await cli(['convert', '--in', join(dir, 'plain.jsonl'), '--out', join(dir, 'waybills.csv')])).code).toBe(0);
  const [header, ...rows] = (await readFile(join(dir, 'waybills.csv'), 'utf8')).trim().split('\n');
  const mapped = header!.split(',').map((c) => (c === 'receiver.mobile' ? '收件人手机' : c));
  await writeFile(join(dir, 'export.csv'), [`${mapped.join(',')},内部编号`, ...rows.map((r) => `${r},x-1`)].join('\n') + '\n');
  await sh('sh', ['-c', 'iconv -f utf-8 -t gb18030 waybills.csv > excel-gbk.csv'], { cwd: dir });
  await copyFile(PARCEL_SCHEMA, join(dir, 'parcel.json'));
  const parcel = { id: 'P1', createdAt: '2025-05-02', weightKg: 1.25, who: '王小四', phone: '13812345678', addr: { city: '杭州市', district: '西湖区', detail: '文一西路969号5-2-301' }, tags: [] };
  await writeFile(join(dir, 'parcels.jsonl'), `${JSON.stringify(parcel)}\n`);
}

it('every README command-line example exits 0, run in order in one directory', async () => {
  const lines = await exampleLines();
  expect(lines.length).toBeGreaterThan(20);
  const dir = await mkdtemp(join(tmpdir(), 'ws-readme-cli-'));
  await writeInputs(dir);
  const stdout = new Map<string, string>();
  for (const line of lines) {
    expect(line, 'every example starts with npx waybill-seal').toMatch(/^npx waybill-seal /);
    const cmd = line.replaceAll('npx waybill-seal', `node ${BIN}`);
    const r = await sh('sh', ['-c', `exec < /dev/null; ${cmd}`], { cwd: dir, maxBuffer: 64 * 1024 * 1024 }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    expect(r.code, `${line}\n${r.stderr}`).toBe(0);
    stdout.set(line, r.stdout);
  }
  // The search example finds the records it is about (both are at outlet HZ-012, mobile ending 4321).
  expect(stdout.get(lines.find((l) => / find /.test(l))!)!.trim().split('\n')).toHaveLength(2);
}, 180_000);
