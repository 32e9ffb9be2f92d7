/**
 * `npm run bench [-- --json FILE] [--rounds N] [--quick] [--clock cpu|wall] [--section NAME]`: runs every section in
 * interleaved rounds and prints one table per section (medians, ratios to each group's baseline).
 * `--json FILE` also writes the environment, options and every result as JSON.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { environment, formatTable, runSection, type CaseResult, type HarnessOptions, type Section } from './harness.js';
import { suitesSection } from './suites.js';

/** Every section, in print order. Add new comparisons here. */
export const SECTIONS: readonly Section[] = [suitesSection];

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
  const wanted = values.section;
  const sections = wanted ? SECTIONS.filter((s) => wanted.includes(s.name)) : SECTIONS;
  if (wanted && sections.length !== wanted.length) throw new Error(`unknown section (known: ${SECTIONS.map((s) => s.name).join(', ')})`);

  const env = await environment();
  process.stdout.write(`${Object.entries(env).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`);
  const results: CaseResult[] = [];
  const started = performance.now();
  for (const section of sections) {
    process.stdout.write(`\n## ${section.name}${section.description ? `: ${section.description}` : ''}\n\n`);
    const r = await runSection(section, options);
    results.push(...r);
    process.stdout.write(`${formatTable(r)}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\nmedian of ${options.rounds ?? 15} interleaved rounds per case (${clock} time); ratio = time / baseline time (lower is faster); ${seconds.toFixed(1)} s\n`);
  if (values.json) {
    await writeFile(values.json, `${JSON.stringify({ environment: env, options, seconds, results }, null, 2)}\n`);
    process.stdout.write(`wrote ${values.json}\n`);
  }
  return 0;
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
