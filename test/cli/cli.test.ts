import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleWaybill } from '../helpers.js';
import { cli, jsonl, lines, openedLines } from './run.js';
import { waybill } from 'waybill-seal';
import 'waybill-seal/testing/vitest';

let dir: string;
let keys: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-cli-'));
  keys = join(dir, 'keys.json');
  const r = await cli(['keygen', '--out', keys]);
  expect(r.code).toBe(0);
});

describe('waybill-seal CLI', () => {
  it('keygen writes a 0600 key file and refuses to overwrite it', async () => {
    expect((await stat(keys)).mode & 0o777).toBe(0o600);
    const before = await readFile(keys, 'utf8');
    const again = await cli(['keygen', '--out', keys]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/refusing to overwrite/);
    expect(await readFile(keys, 'utf8')).toBe(before);
  });

  it('seal → mask → open round trip on files, and inspect', async () => {
    const plain = [{ ...sampleWaybill(), routing: { routeId: 'R1' } }, { ...sampleWaybill(), waybillNo: 'SF2' }];
    await writeFile(join(dir, 'in.jsonl'), jsonl(plain));
    const sealed = await cli(['seal', '--keys', keys, '--in', join(dir, 'in.jsonl'), '--out', join(dir, 'sealed.jsonl')]);
    expect(sealed).toMatchObject({ code: 0 });
    const sealedText = await readFile(join(dir, 'sealed.jsonl'), 'utf8');
    expect(sealedText).toContainNoPlaintext(plain);
    for (const record of lines(sealedText)) expect(record).toBeSealed(waybill);

    const masked = await cli(['mask', '--profile', 'label', '--in', join(dir, 'sealed.jsonl')]);
    expect(masked.code).toBe(0);
    expect(lines(masked.stdout)[0].sender.mobile).toBe('*******5678');

    // The built-in policy: the audit purpose opens every field, with a ticket.
    const opened = await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'CASE-1', '--in', join(dir, 'sealed.jsonl')]);
    expect(opened.code).toBe(0);
    expect(openedLines(opened.stdout)).toEqual(plain);

    const some = await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'deliver', '--route', 'R1', '--fields', 'receiver.mobile'], sealedText);
    const rec = lines(some.stdout)[0];
    expect(rec.receiver.mobile).toBe('+86 139-8765-4321');
    expect(rec.receiver.name).toBe('欧***');
    // SF2 has no route: out of scope, written masked, the run still succeeds.
    expect(some.code).toBe(0);
    expect(lines(some.stdout)[1].receiver.mobile).toBe('139****4321');

    const info = await cli(['inspect'], sealedText);
    const first = lines(info.stdout)[0];
    expect(first.line).toBe(1);
    expect(first.fields).toContainEqual({ path: 'sender.name', version: 'ws1', suite: 'xchacha20-poly1305', dataKeyId: 'contact/2025-03/1' });
  });

  it('reports bad lines by number and reason, never content, writes all good lines, exits 2', async () => {
    const bad = { ...sampleWaybill(), waybillNo: 'B1', sender: { ...sampleWaybill().sender, mobile: '99999' } };
    const input = [JSON.stringify(sampleWaybill()), '{not json', JSON.stringify(bad), '', JSON.stringify({ ...sampleWaybill(), waybillNo: 'G2' })].join('\n');
    const r = await cli(['seal', '--keys', keys], input);
    expect(r.code).toBe(2);
    expect(lines(r.stdout).map((x) => x.waybillNo)).toEqual(['SF1234567890123', 'G2']);
    expect(r.stderr).toMatch(/line 2: rejected: INVALID_JSON/);
    expect(r.stderr).toMatch(/line 3: rejected: VALIDATION: invalid field sender\.mobile/);
    expect(r.stderr).not.toContain('99999');
    expect(r.stderr).not.toContain('not json');
  });

  it('a ciphertext moved to another record is rejected on open', async () => {
    const r = await cli(['seal', '--keys', keys], jsonl([sampleWaybill(), { ...sampleWaybill(), waybillNo: 'SF9' }]));
    const [a, b] = lines(r.stdout);
    b.receiver.mobile = a.receiver.mobile;
    const o = await cli(['open', '--keys', keys, '--principal', 'x', '--purpose', 'audit', '--ticket', 'CASE-2'], jsonl([b]));
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/line 1: rejected: AUTHENTICATION: authentication failed/);
    expect(o.stdout).toBe('');
  });

  it('usage errors exit 1; --help works for every command', async () => {
    expect((await cli(['seal'], '')).code).toBe(1);
    expect((await cli(['open', '--keys', keys], '')).code).toBe(1);
    expect((await cli(['frobnicate'])).code).toBe(1);
    expect((await cli(['seal', '--keys', join(dir, 'missing.json')], '')).code).toBe(1);
    for (const c of ['keygen', 'seal', 'mask', 'open', 'inspect', 'audit', 'shred']) {
      const h = await cli([c, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`waybill-seal ${c}`);
    }
    expect((await cli(['--help'])).stdout).toContain('Commands:');
  });

  it('keygen and --help say which crypto runs: libsodium where sodium-native loads, else OpenSSL, else JS', async () => {
    const k = join(dir, 'backend-keys.json');
    expect((await cli(['keygen', '--out', k])).stderr).toMatch(/crypto: xchacha20-poly1305: libsodium \(sodium-native [\d.]+\), aes-256-gcm: node:crypto, sm4-gcm: js/);
    expect((await cli(['--help'])).stdout).toMatch(/crypto: xchacha20-poly1305: libsodium/);
    expect((await cli(['--help'], '', { WAYBILL_SEAL_BACKEND: 'openssl' })).stdout).toContain('crypto: xchacha20-poly1305: node:crypto, aes-256-gcm: node:crypto, sm4-gcm: js');
    expect((await cli(['--help'], '', { WAYBILL_SEAL_BACKEND: 'js' })).stdout).toContain('crypto: xchacha20-poly1305: js, aes-256-gcm: js, sm4-gcm: js');
  });

  it('warns about a key file readable by others', async () => {
    const loose = join(dir, 'loose.json');
    await writeFile(loose, await readFile(keys), { mode: 0o644 });
    const r = await cli(['seal', '--keys', loose], jsonl([sampleWaybill()]));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/readable by group or others/);
  });
});
