/**
 * R13d L4: docs that mislead an operator after per-month index keys. `find`/`token --help` promised
 * that records sealed under the old index secret are found (they are not, until reindex: "no match"
 * would read as "no such parcel"), and README's HSM setup created no `-index` KEKs (the first indexed
 * seal fails no_kek) while speaking of a blind-index secret.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { help as findHelp } from '../../src/cli/commands/find.js';
import { help as tokenHelp } from '../../src/cli/commands/token.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('docs after per-month index keys (R13d L4)', () => {
  it('token and find --help say legacy records are found only after reindex', () => {
    for (const help of [tokenHelp, findHelp]) {
      expect(help).not.toMatch(/index-secret version|--index-keys key-store|found too/);
      expect(help.replace(/\s+/g, ' ')).toMatch(/old index secret.*reindex/);
    }
  });

  it('README HSM example generates the -index KEKs and names no blind-index secret', () => {
    const gen = readme.split('\n').filter((l) => l.includes('generateKeks('));
    expect(gen.length).toBeGreaterThan(0);
    for (const l of gen) expect(l).toMatch(/withIndexClasses\(/);
    expect(readme).not.toMatch(/blind-index, audit and integrity secrets|keyring's `index` secret/);
  });
});
