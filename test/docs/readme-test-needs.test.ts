/** README says what `npm test` needs (the system packages .ci/run installs) and how to run without them. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const ci = readFileSync(new URL('.ci/run', root), 'utf8');

describe('README: what npm test needs', () => {
  it('names every system package .ci/run installs, and .ci/run itself', () => {
    const packages = [...ci.matchAll(/missing\+=\(([a-z0-9-]+)\)/g)].map((m) => m[1]!);
    expect(packages).toEqual(expect.arrayContaining(['softhsm2', 'postgresql', 'chromium']));
    expect(packages.filter((p) => !readme.includes(`\`${p}\``))).toEqual([]);
    expect(readme).toContain('`.ci/run`');
  });

  it('says how to run the rest without them', () => {
    expect(readme).toContain('WAYBILL_SEAL_SKIP_NATIVE=1 npm test');
    expect(readFileSync(new URL('test/global-setup.ts', root), 'utf8')).toContain("process.env['WAYBILL_SEAL_SKIP_NATIVE'] === '1'");
  });
});
