/**
 * npm run example:label -- --out DIR [--count N] [--seed S]
 *
 * Seals the synthetic demo waybills with fresh in-memory keys, takes the stored `label` masks
 * (no key is used from here on) and writes one 100 × 150 mm SVG label per waybill to
 * DIR/<waybillNo>.svg. Open them in a browser, or print them at 100 % on a thermal printer.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createSealer, generateLocalKeyMaterial, LocalKeyring, mask, MemoryKeyStore, waybill } from 'waybill-seal';
import { syntheticWaybills } from 'waybill-seal/testing';
import { renderLabelSvg, type LabelOptions } from './render.js';
import { exampleArgs, runIfMain } from '../args.js';

export interface RenderDemoLabelsOptions {
  out: string;
  count?: number;
  seed?: number;
  label?: LabelOptions;
}

/** A waybill number as a file name; anything but letters, digits, '-' and '_' becomes '_'. */
export const labelFileName = (waybillNo: string) => `${waybillNo.replace(/[^A-Za-z0-9_-]/g, '_') || '_'}.svg`;

/** Seals `count` synthetic waybills and writes their labels; returns the files written. */
export async function renderDemoLabels(options: RenderDemoLabelsOptions): Promise<string[]> {
  const sealer = createSealer({ keyring: new LocalKeyring(generateLocalKeyMaterial()), keyStore: new MemoryKeyStore() });
  try {
    const sealed = await sealer.sealMany(waybill, syntheticWaybills({ count: options.count ?? 6, seed: options.seed }));
    await mkdir(options.out, { recursive: true });
    const files: string[] = [];
    for (const record of sealed) {
      const file = join(options.out, labelFileName(record.waybillNo));
      await writeFile(file, renderLabelSvg(mask(waybill, record, 'label'), options.label));
      files.push(file);
    }
    return files;
  } finally {
    sealer.close();
  }
}

const USAGE = `usage: npm run example:label -- --out DIR [--count N] [--seed S]

Renders 100 x 150 mm SVG labels of the synthetic demo waybills from their label masks.
  --out DIR     directory to write <waybillNo>.svg into (created if missing)
  --count N     how many waybills (default 6, at most 1000)
  --seed S      seed of the synthetic data (default: the demo's)
`;

async function main(argv: string[]): Promise<number> {
  const args = exampleArgs(argv, ['out', 'count', 'seed'] as const, USAGE);
  if ('exit' in args) return args.exit;
  const { values } = args;
  const count = values.count === undefined ? 6 : Number(values.count);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (!values.out || !Number.isInteger(count) || count < 1 || count > 1000 || (seed !== undefined && !Number.isInteger(seed))) {
    process.stderr.write(USAGE);
    return 1;
  }
  const out = resolve(values.out);
  const files = await renderDemoLabels({ out, count, ...(seed === undefined ? {} : { seed }) });
  process.stdout.write(`Wrote ${files.length} labels (100 × 150 mm SVG, from label masks only) to ${out}\n`);
  for (const f of files) process.stdout.write(`  ${f}\n`);
  return 0;
}

runIfMain(import.meta.url, 'example:label', main);
