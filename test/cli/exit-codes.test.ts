/**
 * Exit codes mean one thing each (issue 15): 1 for usage and configuration, found before any record
 * is written; 2 bad records; 3 quota; 4 integrity. README, `--help` and each command's help line come
 * from src/cli/exit.ts.
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT, EXIT_CODES_MARKDOWN, EXIT_CODES_TEXT, EXIT_TABLE, exitLine, type ExitCode } from '../../src/cli/exit.js';
import { sampleWaybill } from '../helpers.js';
import { cli, jsonl, keyDir } from './run.js';

const README = new URL('../../README.md', import.meta.url);
const COMMANDS = ['keygen', 'seal', 'mask', 'open', 'inspect', 'verify', 'keys', 'reseal', 'find', 'token', 'audit', 'migrate', 'shred', 'convert', 'schema'];

let dir: string;
let keys: string;
let sealed: string;

beforeAll(async () => {
  ({ dir, keys } = await keyDir('ws-exit-'));
  const r = await cli(['seal', '--keys', keys], jsonl([sampleWaybill(), { ...sampleWaybill(), waybillNo: 'SF2' }]));
  expect(r.code).toBe(0);
  sealed = r.stdout;
});

const exists = (p: string) => access(p).then(() => true, () => false);

describe('one source of exit codes', () => {
  it('the README and docs/CLI.md tables and waybill-seal --help are generated from src/cli/exit.ts', async () => {
    expect(await readFile(README, 'utf8')).toContain(EXIT_CODES_MARKDOWN);
    expect(await readFile(new URL('../../docs/CLI.md', import.meta.url), 'utf8')).toContain(EXIT_CODES_MARKDOWN);
    expect((await cli(['--help'])).stdout).toContain(EXIT_CODES_TEXT);
    expect(EXIT_TABLE.map((r) => r.code)).toEqual([0, 1, 2, 3, 4, 130]);
  });

  it("every command's --help has one exit-code line built from the table", async () => {
    for (const c of COMMANDS) {
      const h = await cli([c, '--help']);
      const line = h.stdout.split('\n').filter((l) => l.startsWith('Exit codes:'));
      expect(line, c).toHaveLength(1);
      const codes = [...line[0]!.matchAll(/(?:: |, )(\d+) /g)].map((m) => Number(m[1]) as ExitCode);
      expect(codes.length, c).toBeGreaterThan(1);
      expect(line[0], c).toBe(exitLine(codes));
    }
  });

  it('open --help and verify --help say they read CSV too', async () => {
    for (const c of ['open', 'verify']) expect((await cli([c, '--help'])).stdout).toMatch(/JSON Lines or CSV/);
  });
});

describe('exit 1: usage and configuration errors, before any record is written', () => {
  it('a --purpose the policy does not define: no record read, nothing audited', async () => {
    const audit = join(dir, 'typo.audit.jsonl');
    const r = await cli(['open', '--keys', keys, '--audit', audit, '--principal', 'u1', '--purpose', 'delivr', '--route', 'R1'], sealed);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--purpose "delivr" is not a purpose of the policy \(purposes: deliver,/);
    expect(await exists(audit)).toBe(false);
  });

  it('a purpose without the evidence its rule needs for every record (--ticket, --approval, --route): no record read, nothing audited', async () => {
    const cases: [string[], RegExp][] = [
      [['--purpose', 'customer-service'], /--purpose customer-service needs --ticket ID/],
      [['--purpose', 'audit'], /--purpose audit needs --ticket ID/],
      [['--purpose', 'export'], /--purpose export needs --approval ID/],
      [['--purpose', 'deliver'], /--purpose deliver needs --route ID/],
      [['--purpose', 'customer-service', '--context', '{"ticket":""}'], /--purpose customer-service needs --ticket ID/],
    ];
    for (const [args, message] of cases) {
      const audit = join(dir, 'evidence.audit.jsonl');
      // stdin is never read: an input that would be rejected line by line changes nothing.
      const r = await cli(['open', '--keys', keys, '--audit', audit, '--principal', 'u1', ...args], `{not json\n${sealed}`);
      expect(r, args.join(' ')).toMatchObject({ code: EXIT.USAGE, stdout: '' });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/line \d+: rejected/);
      expect(await exists(audit)).toBe(false);
    }
    // With the evidence the same purposes run (the policy still decides each record).
    expect((await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'customer-service', '--context', '{"ticket":"T-1"}'], sealed)).code).toBe(EXIT.OK);
    expect((await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'deliver', '--route', 'R-0'], sealed)).code).toBe(EXIT.OK);
  });

  it('mask --profile the schema does not have', async () => {
    const r = await cli(['mask', '--profile', 'bogus'], sealed);
    expect(r).toMatchObject({ code: EXIT.USAGE, stdout: '' });
    expect(r.stderr).toMatch(/--profile "bogus" is not a mask profile of schema waybill \(profiles: label, screen\)/);
    expect(r.stderr).not.toMatch(/line \d/);
  });

  it('--budget -5 names the flag and what it takes', async () => {
    const r = await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'export', '--approval', 'A-1', '--budget', '-5'], sealed);
    expect(r).toMatchObject({ code: EXIT.USAGE, stdout: '' });
    expect(r.stderr).toMatch(/--budget must be a non-negative integer/);
  });

  it('a valid key file that is not the one the records were sealed with: open and find stop, not one rejection per line or 0 matches', async () => {
    const other = join(dir, 'other.json');
    expect((await cli(['keygen', '--out', other])).code).toBe(0);
    for (const jobs of ['1', '2']) {
      const o = await cli(['open', '--keys', other, '--jobs', jobs, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-1'], sealed);
      expect(o).toMatchObject({ code: EXIT.USAGE, stdout: '' });
      expect(o.stderr).toMatch(/key file .*other\.json cannot open this input: it holds none of the data keys it was sealed under \(contact\/2025-03\/1/);
      expect(o.stderr).not.toMatch(/line \d+: rejected/);
    }
    const f = await cli(['find', '--keys', other, '--principal', 'cs-4', '--purpose', 'customer-service', '--ticket', 'T-1', '--index', 'receiver.mobile', '13987654321'], sealed);
    expect(f).toMatchObject({ code: EXIT.USAGE, stdout: '' });
    expect(f.stderr).toMatch(/holds none of the data keys/);
    // The right key file still opens the same input.
    expect((await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-1'], sealed)).code).toBe(EXIT.OK);
  });

  describe('a key file that cannot open the input is found in the first chunk, not only by the first record', () => {
    const audit = (k: string, extra: string[] = []) => ['open', '--keys', k, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-1', ...extra];
    /** The sealing key file with its KEKs changed by `edit` (data keys kept), written mode 0600. */
    const variant = async (name: string, edit: (file: { keks: { keys: Record<string, string> }[]; dataKeys: unknown[] }) => void) => {
      const file = JSON.parse(await readFile(keys, 'utf8'));
      edit(file);
      const path = join(dir, name);
      await writeFile(path, JSON.stringify(file), { mode: 0o600 });
      return path;
    };
    const refused = (r: { code: number; stdout: string; stderr: string }) => {
      expect(r).toMatchObject({ code: EXIT.USAGE, stdout: '' });
      // find builds its index keys first, so a file without the -index KEKs stops there.
      expect(r.stderr).toMatch(/cannot open this input|holds no KEK for key class/);
      expect(r.stderr).not.toMatch(/line \d+: rejected/);
    };

    it('its data keys are there but not their KEKs (no_kek): open and find stop with exit 1, --jobs 1 and 2', async () => {
      const noKek = await variant('no-kek.json', (f) => {
        for (const kek of f.keks) kek.keys = { parcel: kek.keys['contact']! };
      });
      for (const jobs of ['1', '2']) {
        const r = await cli(audit(noKek, ['--jobs', jobs]), sealed);
        refused(r);
        expect(r.stderr).toMatch(/holds data keys it cannot unwrap: no KEK for them \(contact\/2025-03\/1 under local:v1:contact/);
      }
      refused(await cli(['find', '--keys', noKek, '--principal', 'cs-4', '--purpose', 'customer-service', '--ticket', 'T-1', '--index', 'receiver.mobile', '13987654321'], sealed));
    });

    it("its data keys were copied from the sealing file, under KEKs of the same ids that are not the sealing file's", async () => {
      const stranger = (await keyDir('ws-exit-stranger-')).keys;
      const copied = JSON.parse(await readFile(stranger, 'utf8'));
      copied.dataKeys = JSON.parse(await readFile(keys, 'utf8')).dataKeys;
      await writeFile(stranger, JSON.stringify(copied), { mode: 0o600 });
      refused(await cli(audit(stranger), sealed));
    });

    it('with --jobs 2 no worker opens a record of a later chunk while the first is checked: nothing audited', async () => {
      const many = await cli(['seal', '--keys', keys], jsonl(Array.from({ length: 200 }, (_, i) => ({ ...sampleWaybill(), waybillNo: `SF-M${i}` }))));
      expect(many.code).toBe(0);
      expect(many.stdout.length).toBeGreaterThan(4 * 64 * 1024); // several chunks
      const other = (await keyDir('ws-exit-jobs-')).keys;
      const log = join(dir, 'jobs.audit.jsonl');
      refused(await cli(audit(other, ['--jobs', '2', '--audit', log]), many.stdout));
      expect((await readFile(log, 'utf8').catch(() => '')).trim()).toBe('');
    });

    it('the first line is not a sealed record: the records after it decide', async () => {
      const other = (await keyDir('ws-exit-later-')).keys;
      refused(await cli(audit(other), `{"not":"sealed"}\n${sealed}`));
      // With the right key file the same input opens; only the first line is rejected.
      const r = await cli(audit(keys), `{"not":"sealed"}\n${sealed}`);
      expect(r.code).toBe(EXIT.REJECTED);
      expect(r.stdout.trim().split('\n')).toHaveLength(2);
    });

    it('a file that holds the keys of some records in the chunk opens those and rejects the others line by line (exit 2)', async () => {
      const { keys: other } = await keyDir('ws-exit-mixed-');
      const april = await cli(['seal', '--keys', other], jsonl([{ ...sampleWaybill(), waybillNo: 'SF9', createdAt: '2025-04-02T08:00:00+08:00' }]));
      expect(april.code).toBe(0);
      // The foreign record comes first: the check looks past it.
      const r = await cli(audit(keys), `${april.stdout}${sealed}`);
      expect(r.code).toBe(EXIT.REJECTED);
      expect(r.stderr).toMatch(/line 1: rejected/);
      expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).waybillNo)).toEqual([sampleWaybill().waybillNo, 'SF2']);
    });
  });

  it('an unreadable schema file, and a CSV header that is not the schema', async () => {
    const s = await cli(['seal', '--keys', keys, '--schema', join(dir, 'nope.json')], jsonl([sampleWaybill()]));
    expect(s).toMatchObject({ code: EXIT.USAGE, stdout: '' });
    expect(s.stderr).toMatch(/cannot read schema file/);
    const h = await cli(['seal', '--keys', keys, '--format', 'csv'], 'foo,bar\n1,2\n3,4\n');
    expect(h).toMatchObject({ code: EXIT.USAGE, stdout: '' });
    expect(h.stderr).toMatch(/CSV column "foo" is not a field of schema waybill/);
    expect(h.stderr).not.toMatch(/line \d+: rejected/);
  });

  it('a bad record is 2, not 1', async () => {
    const r = await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-1'], `${sealed}{not json\n`);
    expect(r.code).toBe(EXIT.REJECTED);
  });
});

describe('exit 4: integrity', () => {
  /** The first record with its receiver's label mask changed: a well-formed line whose tag no longer verifies. */
  const tampered = () => {
    const [first, ...rest] = sealed.trim().split('\n');
    const rec = JSON.parse(first!);
    const label: string = rec.receiver.mobile.mask.label;
    rec.receiver.mobile.mask.label = label.replace(/\d{4}$/, '0000');
    expect(rec.receiver.mobile.mask.label).not.toBe(label);
    return [JSON.stringify(rec), ...rest].join('\n') + '\n';
  };
  it('open exits 4 when a record fails its tag, and says which line; the good records are written', async () => {
    const r = await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-1'], tampered());
    expect(r.code).toBe(EXIT.INTEGRITY);
    expect(r.stderr).toMatch(/line 1: rejected: INTEGRITY/);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect((await cli(['verify', '--keys', keys], tampered())).code).toBe(EXIT.INTEGRITY);
  });

  it('4 wins over 2 when a tampered record and a malformed line are in the same run', async () => {
    const r = await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-1'], `${tampered()}{not json\n`);
    expect(r.code).toBe(EXIT.INTEGRITY);
    expect(r.stderr).toMatch(/line 1: rejected: INTEGRITY/);
    expect(r.stderr).toMatch(/line 3: rejected/);
  });
});
