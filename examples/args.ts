/** Command-line options of the example scripts: string options and `--help`, usage on stderr for a bad one. */
import { parseArgs } from 'node:util';

export type ExampleArgs<K extends string> = { readonly values: Partial<Record<K, string>> } | { readonly exit: number };

export function exampleArgs<K extends string>(argv: string[], names: readonly K[], usage: string): ExampleArgs<K> {
  const options = Object.fromEntries(names.map((n) => [n, { type: 'string' as const }]));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${usage}`);
    return { exit: 1 };
  }
  if (parsed.values['help']) {
    process.stdout.write(usage);
    return { exit: 0 };
  }
  return { values: parsed.values as Partial<Record<K, string>> };
}
