/** CLI with the SM suite: keygen --suite sm4-gcm → seal → inspect shows sm4-gcm → open; --suite overrides per run. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, jsonl, lines, openedLines } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';

const suitesOf = (inspected: string) => new Set(lines(inspected).flatMap((l) => l.fields.map((f: { suite: string }) => f.suite)));
let dir: string;
let keys: string;
const plain = [sampleWaybill(), { ...sampleWaybill(), waybillNo: 'SF2' }];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-cli-sm-'));
  keys = join(dir, 'keys-cn.json');
  const r = await cli(['keygen', '--out', keys, '--suite', 'sm4-gcm']);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/suite sm4-gcm, sm4-gcm KEKs/);
});

describe('waybill-seal CLI with sm4-gcm', () => {
  it('keygen --suite sm4-gcm writes SM4 KEKs and the suite', async () => {
    const file = JSON.parse(await readFile(keys, 'utf8'));
    expect(file.suite).toBe('sm4-gcm');
    expect(file.keks[0].alg).toBe('sm4-gcm');
    for (const k of Object.values(file.keks[0].keys) as string[]) expect(Buffer.from(k, 'base64url').length).toBe(16);
    expect(file.secrets.index).toBeUndefined();
    expect(Object.keys(file.keks[0].keys)).toContain('contact-index');
  });

  it('seal → inspect shows sm4-gcm for every field → open returns the input', async () => {
    await writeFile(join(dir, 'in.jsonl'), jsonl(plain));
    const sealed = await cli(['seal', '--keys', keys, '--in', join(dir, 'in.jsonl')]);
    expect(sealed.code).toBe(0);
    expect(sealed.stdout).not.toContain('13812345678');
    const info = await cli(['inspect'], sealed.stdout);
    expect(info.code).toBe(0);
    expect(suitesOf(info.stdout)).toEqual(new Set(['sm4-gcm']));
    expect(lines(info.stdout)[0].fields).toContainEqual({ path: 'sender.name', version: 'ws1', suite: 'sm4-gcm', dataKeyId: 'contact/2025-03/1' });
    const file = JSON.parse(await readFile(keys, 'utf8'));
    for (const r of file.dataKeys) {
      // Index keys (HMAC-SM3 token roots) are 256-bit; every key is wrapped with SM4-GCM.
      const index = r.keyClass.endsWith('-index');
      expect(r.suite).toBe(index ? 'xchacha20-poly1305' : 'sm4-gcm');
      expect(Buffer.from(r.wrapped, 'base64url').length).toBe(12 + (index ? 32 : 16) + 16);
    }
    const opened = await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-8998'], sealed.stdout);
    expect(opened.code).toBe(0);
    expect(openedLines(opened.stdout)).toEqual(plain);
  });

  it('find on the SM key file uses HMAC-SM3, as seal did (the preset comes from the key file)', async () => {
    const sealed = await cli(['seal', '--keys', keys], jsonl(plain));
    expect(sealed.code).toBe(0);
    const found = await cli(['find', '--keys', keys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-8998', '--index', 'receiver.mobile', '13987654321'], sealed.stdout);
    expect(found.code).toBe(0);
    expect(lines(found.stdout).map((r) => r.waybillNo)).toEqual(['SF1234567890123', 'SF2']);
    const other = await cli(['find', '--keys', keys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-8998', '--index', 'receiver.mobile', '--index-hash', 'hmac-sha256', '--candidates', '13987654321'], sealed.stdout);
    expect(other.code).toBe(0);
    expect(lines(other.stdout)).toEqual([]);
  });

  it('seal --suite overrides the key file suite per run, in both directions, and everything opens', async () => {
    const aes = await cli(['seal', '--keys', keys, '--suite', 'aes-256-gcm'], jsonl(plain));
    expect(aes.code).toBe(0);
    expect(suitesOf((await cli(['inspect'], aes.stdout)).stdout)).toEqual(new Set(['aes-256-gcm']));
    const opened = await cli(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-8998'], aes.stdout);
    expect(openedLines(opened.stdout)).toEqual(plain);

    const xkeys = join(dir, 'keys-x.json');
    expect((await cli(['keygen', '--out', xkeys])).code).toBe(0);
    const sm = await cli(['seal', '--keys', xkeys, '--suite', 'sm4-gcm'], jsonl(plain));
    expect(sm.code).toBe(0);
    expect(suitesOf((await cli(['inspect'], sm.stdout)).stdout)).toEqual(new Set(['sm4-gcm']));
    expect(openedLines((await cli(['open', '--keys', xkeys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-8998'], sm.stdout)).stdout)).toEqual(plain);
  });

  it('refuses unknown suites and lists the known ones', async () => {
    const k = await cli(['keygen', '--out', join(dir, 'bad.json'), '--suite', 'sm4-cbc']);
    expect(k.code).toBe(1);
    expect(k.stderr).toMatch(/unknown suite "sm4-cbc" \(known: xchacha20-poly1305, aes-256-gcm, sm4-gcm\)/);
    expect((await cli(['seal', '--keys', keys, '--suite', 'des'], jsonl(plain))).code).toBe(1);
    expect((await cli(['keygen', '--help'])).stdout).toContain('sm4-gcm');
  });
});
