/** Supply chain: what `npm pack` would publish (run after the build, as `npm test` does). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

describe('published package contents', () => {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as [
    { files: { path: string }[] },
  ];
  const files = pack.files.map((f) => f.path);

  it('holds only the build, the format spec, README, LICENSE, CHANGELOG and package.json', () => {
    const allowed = /^(dist\/.+\.(js|cjs|d\.ts|d\.cts)|docs\/FORMAT\.md|README\.md|LICENSE|CHANGELOG\.md|package\.json|schemas\/.+\.json)$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('LICENSE');
  });

  it('types resolve under node10 too: typesVersions maps every subpath export to its types; lint:pkg checks every resolution (no --profile)', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
      exports: Record<string, string | { require: { types: string } }>;
      typesVersions: Record<string, Record<string, string[]>>;
      scripts: Record<string, string>;
    };
    const subpaths = Object.entries(pkg.exports).filter(([k, v]) => k !== '.' && typeof v !== 'string');
    expect(subpaths.map(([k]) => k)).toEqual(expect.arrayContaining(['./testing/vitest', './testing/jest']));
    for (const [k, v] of subpaths) {
      const types = (v as { require: { types: string } }).require.types;
      expect(pkg.typesVersions['*']?.[k.slice(2)], k).toEqual([types]);
      expect(files, k).toContain(types.slice(2));
    }
    expect(pkg.scripts['lint:pkg']).toMatch(/attw --pack \.$/);
  });

  it('ships no tests, keys, source maps, local state or vectors', () => {
    expect(files.filter((f) => /(^|\/)(test|\.tmp|node_modules)\/|\.map$|keys?\.json$|\.audit\.jsonl$|vectors/.test(f))).toEqual([]);
  });

  it('is provenance-ready: public, with provenance, a repository, a licence and engines', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as Record<string, unknown>;
    expect(pkg['publishConfig']).toMatchObject({ access: 'public', provenance: true });
    expect(pkg['repository']).toBeDefined();
    expect(pkg['license']).toBe('Apache-2.0');
    expect(pkg['engines']).toMatchObject({ node: '>=20.19.0' });
    // Only the matcher registrations (`import 'waybill-seal/testing/vitest'`) run for their effect.
    expect(pkg['sideEffects']).toEqual(['./dist/testing/vitest.js', './dist/testing/vitest.cjs', './dist/testing/jest.js', './dist/testing/jest.cjs']);
  });

  it('libsodium is optional and prebuilt: sodium-native and everything it pulls in install without a script (no compiler)', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { optionalDependencies?: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.optionalDependencies?.['sodium-native']).toMatch(/^\^5\./);
    expect(pkg.dependencies['sodium-native']).toBeUndefined();
    const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8')) as { packages: Record<string, { optional?: boolean; dev?: boolean; hasInstallScript?: boolean; dependencies?: Record<string, string> }> };
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const entry = lock.packages[`node_modules/${name}`]!;
      expect(entry, name).toBeDefined();
      expect(entry.hasInstallScript, `${name} runs an install script`).toBeUndefined();
      for (const dep of Object.keys(entry.dependencies ?? {})) visit(dep);
    };
    visit('sodium-native');
    expect(seen.size).toBeGreaterThan(1);
  });
});
