/**
 * `npm run bench [-- --json FILE] [--rounds N] [--quick] [--clock cpu|wall] [--section NAME]`: runs every section in
 * interleaved rounds and prints one table per section (medians, ratios to each group's baseline).
 * `--json FILE` also writes `{ results: [{ name, seal, open }] }` (the `peers` section: waybills per
 * second, medians; null for a contender that is unavailable), the environment, package versions,
 * options and every case (`cases`).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { useNativeCrypto } from '../src/crypto/backend-load.js';
import { environment, formatTable, runSection, type CaseResult, type HarnessOptions, type Section } from './harness.js';
import { configurePeers, formatPeers, peerResults, peersSection, PEER_PACKAGES } from './peers.js';
import { cliSection } from './cli.js';
import { suitesSection } from './suites.js';
import { tagsSection } from './tags.js';
import { indexKeysSection } from './index-keys.js';

/** Every section, in print order. Add new comparisons here. */
export const SECTIONS: readonly Section[] = [suitesSection, peersSection, cliSection, tagsSection, indexKeysSection];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean' },
      clock: { type: 'string' },
      section: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`npm run bench -- [--json FILE] [--rounds N] [--quick] [--clock cpu|wall] [--section ${SECTIONS.map((s) => s.name).join('|')}]\n`);
    return 0;
  }
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds > 0)) throw new Error('--rounds must be a positive integer');
  const clock = values.clock ?? 'cpu';
  if (clock !== 'cpu' && clock !== 'wall') throw new Error('--clock must be cpu or wall');
  const options: HarnessOptions = values.quick
    ? { rounds: rounds ?? 3, batchMs: 15, warmupMs: 20, clock }
    : { ...(rounds ? { rounds } : {}), clock };
  if (values.quick) configurePeers({ pool: 2_000 });
  const wanted = values.section;
  const sections = wanted ? SECTIONS.filter((s) => wanted.includes(s.name)) : SECTIONS;
  if (wanted && sections.length !== wanted.length) throw new Error(`unknown section (known: ${SECTIONS.map((s) => s.name).join(', ')})`);

  // Native crypto from the source tree (the package's `#backend` import would need a build):
  // `WAYBILL_SEAL_BACKEND=js` still turns it off.
  useNativeCrypto((await import('../src/crypto/backend-node.js')).backend);
  const env = await environment();
  const versions = packageVersions();
  process.stdout.write(`${Object.entries(env).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`);
  process.stdout.write(`versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  const results: CaseResult[] = [];
  const started = performance.now();
  for (const section of sections) {
    process.stdout.write(`\n## ${section.name}${section.description ? `: ${section.description}` : ''}\n\n`);
    const r = await runSection(section, options);
    results.push(...r);
    process.stdout.write(`${section === peersSection ? formatPeers(r) : formatTable(r)}\n`);
    process.stdout.write(`median of ${r[0]?.rounds ?? options.rounds ?? 15} interleaved rounds per case on CPU and wall time (ratios and --json rates: ${clock} time)\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\nratio = time / baseline time (lower is faster) unless a table says otherwise; ${seconds.toFixed(1)} s\n`);
  process.stdout.write(
    '± = median absolute deviation over rounds, relative to the median. On a shared machine other processes take the CPU away\n' +
      '(wall time only) and share caches and SMT siblings (both clocks); GC pauses and JIT tiering land in some rounds only.\n' +
      'Rounds are interleaved so that drift reaches every case alike: compare ratios within one run, not rates across runs.\n',
  );
  if (values.json) {
    const summary = sections.includes(peersSection) ? peerResults(results) : [];
    await writeFile(values.json, `${JSON.stringify({ results: summary, environment: env, versions, options, seconds, cases: results }, null, 2)}\n`);
    process.stdout.write(`wrote ${values.json}\n`);
  }
  return 0;
}

/** Installed versions of this package, its crypto dependencies and the peers. */
function packageVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['waybill-seal', '@noble/ciphers', '@noble/hashes', 'libphonenumber-js', ...PEER_PACKAGES]) {
    try {
      const file = name === 'waybill-seal' ? '../package.json' : `../node_modules/${name}/package.json`;
      out[name] = (JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      out[name] = 'not installed';
    }
  }
  return out;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
