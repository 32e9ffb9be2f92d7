import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, lines as jsonLines } from '../cli/run.js';
import { toBase64Url } from '../../src/crypto/bytes.js';
import { randomBytes } from '../../src/crypto/random.js';
import { createTagger } from '../../src/integrity/tag.js';
import { LocalKeyring, waybill } from '../../src/index.js';
import { sampleWaybill } from '../helpers.js';

describe('waybill-seal verify', () => {
  it('checks every line with a verify-only key file; exit 0 when intact, 4 with the failing path otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-verify-'));
    const keys = join(dir, 'keys.json');
    expect((await cli(['keygen', '--out', keys])).code).toBe(0);
    await writeFile(join(dir, 'plain.jsonl'), [sampleWaybill(), { ...sampleWaybill(), waybillNo: 'SF2' }].map((r) => JSON.stringify(r)).join('\n'));
    expect((await cli(['seal', '--keys', keys, '--in', join(dir, 'plain.jsonl'), '--out', join(dir, 'sealed.jsonl')])).code).toBe(0);
    // What a label printer gets: the integrity secret alone.
    const full = JSON.parse(await readFile(keys, 'utf8'));
    const printer = join(dir, 'printer.json');
    await writeFile(printer, JSON.stringify({ secrets: { integrity: full.secrets.integrity } }), { mode: 0o600 });

    const ok = await cli(['verify', '--keys', printer, '--in', join(dir, 'sealed.jsonl')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ line: 1, ok: true }, { line: 2, ok: true }]);

    const lines = (await readFile(join(dir, 'sealed.jsonl'), 'utf8')).trim().split('\n');
    const second = JSON.parse(lines[1]!);
    second.receiver.address.district = '余杭区';
    await writeFile(join(dir, 'tampered.jsonl'), [lines[0], JSON.stringify(second), '{oops'].join('\n'));
    const bad = await cli(['verify', '--keys', printer, '--in', join(dir, 'tampered.jsonl')]);
    expect(bad.code).toBe(4);
    expect(bad.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { line: 1, ok: true },
      { line: 2, ok: false, path: 'receiver.address.district', reason: 'altered' },
    ]);
    // A line that is not a record is rejected like in every bulk command (reason code, never content).
    expect(bad.stderr).toMatch(/line 3: rejected: INVALID_JSON/);
    expect(bad.stderr).toMatch(/1 of the records failed verification/);
    expect(bad.stdout + bad.stderr).not.toContain('余杭区');
    expect((await cli(['verify', '--in', join(dir, 'sealed.jsonl')])).code).toBe(1);

    // CSV in and out, over two worker threads, rejects to a file: the same verdicts in input order.
    const sealedCsv = join(dir, 'sealed.csv');
    expect((await cli(['convert', '--in', join(dir, 'tampered.jsonl'), '--out', sealedCsv, '--quiet'])).code).toBe(2);
    const rejects = join(dir, 'rejects.jsonl');
    const csv = await cli(['verify', '--keys', printer, '--in', sealedCsv, '--out-format', 'csv', '--jobs', '2', '--rejects', rejects, '--quiet']);
    expect(csv.code).toBe(4);
    expect(csv.stdout.trim().split('\n')).toEqual(['line,ok,path,reason', '2,true,,', '3,false,receiver.address.district,altered']);
    expect(await readFile(rejects, 'utf8')).toBe('');
    const jobs = await cli(['verify', '--keys', printer, '--in', join(dir, 'tampered.jsonl'), '--jobs', '2', '--rejects', rejects, '--force', '--quiet']);
    expect(jsonLines(jobs.stdout)).toEqual([{ line: 1, ok: true }, { line: 2, ok: false, path: 'receiver.address.district', reason: 'altered' }]);
    expect(jsonLines(await readFile(rejects, 'utf8'))).toEqual([{ line: 3, code: 'INVALID_JSON', message: 'INVALID_JSON' }]);
  });
});

describe('signed records on the command line', () => {
  it.each(['ed25519', 'sm2'])('%s: keygen, export-verify, and a printer whose mask --verify-key refuses an edited *******9999 (exit 4, not printed)', async (alg) => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-sign-'));
    const at = (f: string) => join(dir, f);
    expect((await cli(['keygen', '--out', at('keys.json'), '--integrity', alg, '--quiet'])).code).toBe(0);
    const exported = await cli(['keys', 'export-verify', '--keys', at('keys.json'), '--out', at('verify.json')]);
    expect(exported.code).toBe(0);
    // The verify-only file: public keys, nothing of the key file's secrets.
    const verify = JSON.parse(await readFile(at('verify.json'), 'utf8'));
    const full = JSON.parse(await readFile(at('keys.json'), 'utf8'));
    expect(Object.keys(verify).sort()).toEqual(['alg', 'format', 'keys', 'version']);
    const text = JSON.stringify(verify);
    for (const list of Object.values(full.secrets) as { key: string }[][]) for (const s of list) expect(text).not.toContain(s.key);
    for (const kek of full.keks) for (const k of Object.values(kek.keys) as string[]) expect(text).not.toContain(k);

    const records = [sampleWaybill(), { ...sampleWaybill(), waybillNo: 'SF2' }];
    await writeFile(at('plain.jsonl'), records.map((r) => JSON.stringify(r)).join('\n'));
    expect((await cli(['seal', '--keys', at('keys.json'), '--in', at('plain.jsonl'), '--out', at('sealed.jsonl'), '--quiet'])).code).toBe(0);
    const sealed = (await readFile(at('sealed.jsonl'), 'utf8')).trim().split('\n');
    expect(JSON.parse(sealed[0]!).$tag).toMatch(new RegExp(`^t2\\.${alg}\\.1\\.`));
    const forged = JSON.parse(sealed[1]!);
    forged.receiver.mobile.mask.label = '*******9999';
    await writeFile(at('forged.jsonl'), [sealed[0], JSON.stringify(forged)].join('\n'));

    // Without --verify-key the key-free mask prints the forgery (why printers should verify).
    const blind = await cli(['mask', '--profile', 'label', '--in', at('forged.jsonl')]);
    expect(blind.code).toBe(0);
    expect(blind.stdout).toContain('*******9999');
    for (const jobs of ['1', '2']) {
      const printed = await cli(['mask', '--profile', 'label', '--verify-key', at('verify.json'), '--jobs', jobs, '--in', at('forged.jsonl')]);
      expect(printed.code).toBe(4);
      expect(jsonLines(printed.stdout).map((r) => r.waybillNo)).toEqual([records[0]!.waybillNo]);
      expect(printed.stdout).not.toContain('9999');
      expect(printed.stderr).toMatch(/line 2: rejected: INTEGRITY: .*receiver\.mobile: altered/);
    }
    const checked = await cli(['verify', '--verify-key', at('verify.json'), '--in', at('forged.jsonl')]);
    expect(checked.code).toBe(4);
    expect(jsonLines(checked.stdout)).toEqual([{ line: 1, ok: true }, { line: 2, ok: false, path: 'receiver.mobile', reason: 'altered' }]);
    expect((await cli(['verify', '--verify-key', at('verify.json'), '--in', at('sealed.jsonl')])).code).toBe(0);
    expect((await cli(['verify', '--keys', at('keys.json'), '--in', at('forged.jsonl')])).code).toBe(4);
    // A full key file is not a verify-only one.
    const wrong = await cli(['mask', '--verify-key', at('keys.json'), '--in', at('sealed.jsonl')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/not a verify-only key file/);
    // open (which holds the private key) refuses the forgery too.
    const opened = await cli(['open', '--keys', at('keys.json'), '--principal', 'a', '--purpose', 'audit', '--ticket', 'T-1', '--in', at('forged.jsonl')]);
    expect(opened.stderr).toMatch(/line 2: rejected: INTEGRITY/);
  });

  it('a leftover HMAC integrity secret cannot vouch for an edited record to verify --keys on a signing key file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-sign-'));
    const at = (f: string) => join(dir, f);
    expect((await cli(['keygen', '--out', at('keys.json'), '--integrity', 'ed25519', '--quiet'])).code).toBe(0);
    const full = JSON.parse(await readFile(at('keys.json'), 'utf8'));
    const written = Object.keys(full.secrets).sort();
    // A key file moved from HMAC to signatures keeps the secret printers were once given.
    const leaked = [{ version: 1, key: toBase64Url(randomBytes(32)) }];
    await writeFile(at('keys.json'), JSON.stringify({ ...full, secrets: { ...full.secrets, integrity: leaked } }), { mode: 0o600 });
    await writeFile(at('plain.jsonl'), JSON.stringify(sampleWaybill()));
    expect((await cli(['seal', '--keys', at('keys.json'), '--in', at('plain.jsonl'), '--out', at('sealed.jsonl'), '--quiet'])).code).toBe(0);

    // The holder of the old secret edits the label and writes an HMAC tag under it.
    const forged = JSON.parse(await readFile(at('sealed.jsonl'), 'utf8'));
    forged.receiver.mobile.mask.label = '*******9999';
    delete forged.$tag;
    const secretOnly = new LocalKeyring({ keks: [{ version: 1, createdAt: '', keys: {} }], currentKek: 1, secrets: { integrity: leaked } });
    forged.$tag = await createTagger(secretOnly).tag(waybill, forged);
    await writeFile(at('forged.jsonl'), JSON.stringify(forged));

    const checked = await cli(['verify', '--keys', at('keys.json'), '--in', at('forged.jsonl')]);
    expect(jsonLines(checked.stdout)).toEqual([{ line: 1, ok: false, path: '$tag', reason: 'key_not_accepted' }]);
    expect(checked.code).toBe(4);
    expect((await cli(['verify', '--keys', at('keys.json'), '--in', at('sealed.jsonl')])).code).toBe(0);
    // A new signing key file holds no HMAC secret at all (and no index secret: none exists any more).
    expect(written).toEqual(['audit', 'ed25519']);
  });

  it('export-verify --version 2 leaves a compromised v1 out: printers refuse what it signs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-sign-'));
    const at = (f: string) => join(dir, f);
    expect((await cli(['keygen', '--out', at('keys.json'), '--integrity', 'ed25519', '--quiet'])).code).toBe(0);
    await writeFile(at('plain.jsonl'), JSON.stringify(sampleWaybill()));
    // Records signed with v1, then v1 is believed stolen: v2 added and current.
    expect((await cli(['seal', '--keys', at('keys.json'), '--in', at('plain.jsonl'), '--out', at('v1.jsonl'), '--quiet'])).code).toBe(0);
    const full = JSON.parse(await readFile(at('keys.json'), 'utf8'));
    full.secrets.ed25519.push({ version: 2, key: toBase64Url(randomBytes(32)) });
    await writeFile(at('keys.json'), JSON.stringify(full), { mode: 0o600 });
    expect((await cli(['seal', '--keys', at('keys.json'), '--in', at('plain.jsonl'), '--out', at('v2.jsonl'), '--quiet'])).code).toBe(0);

    const exported = await cli(['keys', 'export-verify', '--keys', at('keys.json'), '--out', at('verify.json'), '--version', '2', '--json']);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual({ alg: 'ed25519', versions: [2] });
    expect(JSON.parse(await readFile(at('verify.json'), 'utf8')).keys.map((k: { version: number }) => k.version)).toEqual([2]);
    expect((await cli(['verify', '--verify-key', at('verify.json'), '--in', at('v2.jsonl')])).code).toBe(0);
    const old = await cli(['verify', '--verify-key', at('verify.json'), '--in', at('v1.jsonl')]);
    expect(old.code).toBe(4);
    expect(jsonLines(old.stdout)).toEqual([{ line: 1, ok: false, path: '$tag', reason: 'unknown_key_version' }]);
    // A version the file does not hold, or not a version: refused, nothing written.
    expect((await cli(['keys', 'export-verify', '--keys', at('keys.json'), '--out', at('v3.json'), '--version', '3'])).code).toBe(1);
    expect((await cli(['keys', 'export-verify', '--keys', at('keys.json'), '--out', at('vx.json'), '--version', 'x'])).code).toBe(1);
    await expect(readFile(at('v3.json'))).rejects.toThrow();
  });

  it('export-verify is refused for HMAC record tags, which verify.json could not check without forging', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-sign-'));
    expect((await cli(['keygen', '--out', join(dir, 'keys.json'), '--quiet'])).code).toBe(0);
    const r = await cli(['keys', 'export-verify', '--keys', join(dir, 'keys.json'), '--out', join(dir, 'verify.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HMAC record tags/);
  });
});

describe('keys add-integrity: signatures for an existing key file', () => {
  const open = (keys: string, file: string) => cli(['open', '--keys', keys, '--principal', 'a', '--purpose', 'audit', '--ticket', 'T-1', '--in', file, '--quiet']);

  it('adds an ed25519 key to an HMAC file (KEKs, data keys and secrets kept), refuses a second without --force, and old HMAC tags open only with --accept-previous', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-addsig-'));
    const at = (f: string) => join(dir, f);
    expect((await cli(['keygen', '--out', at('keys.json'), '--quiet'])).code).toBe(0);
    await writeFile(at('plain.jsonl'), JSON.stringify(sampleWaybill()));
    expect((await cli(['seal', '--keys', at('keys.json'), '--in', at('plain.jsonl'), '--out', at('hmac.jsonl'), '--quiet'])).code).toBe(0);
    const before = JSON.parse(await readFile(at('keys.json'), 'utf8'));
    // A copy of the file at this point, for the --accept-previous run.
    await writeFile(at('keys2.json'), JSON.stringify(before), { mode: 0o600 });

    const added = await cli(['keys', 'add-integrity', '--keys', at('keys.json'), '--integrity', 'ed25519', '--json']);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({ alg: 'ed25519', version: 1, accept: [] });
    const after = JSON.parse(await readFile(at('keys.json'), 'utf8'));
    expect(after.integrity).toBe('ed25519');
    expect(after.secrets.ed25519.map((s: { version: number }) => s.version)).toEqual([1]);
    for (const k of ['keks', 'currentKek', 'dataKeys', 'suite'] as const) expect(after[k]).toEqual(before[k]);
    for (const name of Object.keys(before.secrets)) expect(after.secrets[name]).toEqual(before.secrets[name]);
    expect(after.integrityAccept).toBeUndefined();
    // Written by rename under the lock: no temp or lock file left behind.
    expect((await readdir(dir)).sort()).toEqual(['hmac.jsonl', 'keys.json', 'keys2.json', 'plain.jsonl']);

    // A second run would replace nothing silently: refused, file unchanged.
    const text = await readFile(at('keys.json'), 'utf8');
    const again = await cli(['keys', 'add-integrity', '--keys', at('keys.json'), '--integrity', 'ed25519']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds an ed25519 signing key \(v1\); --force/);
    expect(await readFile(at('keys.json'), 'utf8')).toBe(text);
    expect((await cli(['keys', 'add-integrity', '--keys', at('keys.json')])).code).toBe(1);

    // New records are signed, and a printer checks them with the exported public key.
    expect((await cli(['seal', '--keys', at('keys.json'), '--in', at('plain.jsonl'), '--out', at('signed.jsonl'), '--quiet'])).code).toBe(0);
    expect(JSON.parse(await readFile(at('signed.jsonl'), 'utf8')).$tag).toMatch(/^t2\.ed25519\.1\./);
    expect((await cli(['keys', 'export-verify', '--keys', at('keys.json'), '--out', at('verify.json')])).code).toBe(0);
    expect((await cli(['verify', '--verify-key', at('verify.json'), '--in', at('signed.jsonl')])).code).toBe(0);
    // The HMAC tag (which printers holding the HMAC secret could have forged) is no longer trusted.
    expect((await open(at('keys.json'), at('signed.jsonl'))).stdout).toContain('张三');
    const refused = await open(at('keys.json'), at('hmac.jsonl'));
    expect(refused.stderr).toMatch(/line 1: rejected: INTEGRITY.*key_not_accepted/);
    expect(refused.stdout).not.toContain('张三');

    // --accept-previous: the HMAC key that tagged the old records stays accepted (named in the file).
    const kept = await cli(['keys', 'add-integrity', '--keys', at('keys2.json'), '--integrity', 'ed25519', '--accept-previous', '--json']);
    expect(JSON.parse(kept.stdout)).toEqual({ alg: 'ed25519', version: 1, accept: ['hmac-sha256:1', 'hmac-sm3:1'] });
    expect((await open(at('keys2.json'), at('hmac.jsonl'))).stdout).toContain('张三');
    // verify --keys accepts exactly what open accepts.
    expect((await cli(['verify', '--keys', at('keys.json'), '--in', at('hmac.jsonl')])).code).toBe(4);
    expect((await cli(['verify', '--keys', at('keys2.json'), '--in', at('hmac.jsonl')])).code).toBe(0);
  });

  it('--force adds a new version (rotation); two concurrent runs both land (the file lock), none lost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-addsig-'));
    const keys = join(dir, 'keys.json');
    expect((await cli(['keygen', '--out', keys, '--integrity', 'ed25519', '--quiet'])).code).toBe(0);
    const runs = await Promise.all([1, 2].map(() => cli(['keys', 'add-integrity', '--keys', keys, '--integrity', 'ed25519', '--force', '--accept-previous', '--json'])));
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    expect(runs.map((r) => JSON.parse(r.stdout).version).sort()).toEqual([2, 3]);
    const file = JSON.parse(await readFile(keys, 'utf8'));
    expect(file.secrets.ed25519.map((s: { version: number }) => s.version)).toEqual([1, 2, 3]);
    expect(file.integrityAccept).toEqual(['ed25519:1', 'ed25519:2']);
    expect((await readdir(dir)).sort()).toEqual(['keys.json']);
  });
});
