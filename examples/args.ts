/** The command line of the example scripts: string options and `--help`, and running `main` when started as a script. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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

/** An error as an example reports it: its name and message (never a record's content). */
export const describeError = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : 'unknown error');

/**
 * Runs `main` when `moduleUrl` (the caller's `import.meta.url`) is the script node was started with,
 * so tests can import the module instead. A number it returns is the exit code; an error exits 1.
 */
export function runIfMain(moduleUrl: string, name: string, main: (argv: string[]) => Promise<number | void>, describe = describeError): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(resolve(process.argv[1])).href) return;
  main(process.argv.slice(2)).then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${name} failed: ${describe(e)}\n`);
      process.exitCode = 1;
    },
  );
}
