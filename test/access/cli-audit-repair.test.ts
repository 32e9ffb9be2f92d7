/** Issue 18, finding 5: `waybill-seal audit repair` from the built bin (library cases: audit-repair.test.ts). */
import { appendFile, mkdtemp, readFile, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-cli-audit-repair-'));
});

describe('waybill-seal audit repair', () => {
  it('repairs a log that open refused to extend, after which open works again and the log verifies', async () => {
    const keys = join(dir, 'keys.json');
    expect((await cli(['keygen', '--out', keys])).code).toBe(0);
    const sealed = await cli(['seal', '--keys', keys], `${JSON.stringify(sampleWaybill())}\n`);
    const audit = join(dir, 'keys.audit.jsonl');
    const args = ['open', '--keys', keys, '--principal', 'cs-1', '--purpose', 'customer-service', '--ticket', 'T-1'];
    expect((await cli(args, sealed.stdout)).code).toBe(0);
    expect((await cli(args, sealed.stdout)).code).toBe(0);
    // A crash mid-write: the second line loses its end.
    const text = await readFile(audit, 'utf8');
    await truncate(audit, text.length - 40);
    const refused = await cli(args, sealed.stdout);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ends with a partial line');

    const r = await cli(['audit', 'repair', '--keys', keys, audit]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^repaired: cut off a torn last line \(\d+ bytes\); 1 line\(s\) before it verified; head 1:[A-Za-z0-9_-]{43}\n$/);
    expect((await cli(['audit', 'repair', '--keys', keys, audit])).stdout).toMatch(/^nothing to repair: 1 line\(s\) intact/);
    expect((await cli(args, sealed.stdout)).code).toBe(0);
    expect((await cli(['audit', 'verify', '--keys', keys, audit])).stdout).toMatch(/^ok: 2 line\(s\) intact/);

    await appendFile(audit, 'garbage');
    const lines2 = (await readFile(audit, 'utf8')).split('\n');
    await writeFile(audit, [lines2[1], lines2[0], 'x'].join('\n'));
    const bad = await cli(['audit', 'repair', '--keys', keys, audit]);
    expect(bad.code).toBe(4);
    expect(bad.stdout).toContain('nothing was changed');
  });
});
