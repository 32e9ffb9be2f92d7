import { inspect } from '../../seal/inspect.js';
import { parse } from '../args.js';
import { openStreams, runJsonl } from '../io.js';
import { exitCode } from './shared.js';

export const help = `waybill-seal inspect [--in FILE] [--out FILE]

Sealed JSON Lines in; per record, one JSON line with the format version, suite and data key id
of each sealed field. Needs no keys; works for records of any schema.

Example:
  waybill-seal inspect --in sealed.jsonl`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {});
  const summary = await runJsonl(openStreams(values['in'] as string | undefined, values['out'] as string | undefined), async (rec, line) =>
    JSON.stringify({ line, fields: inspect(rec) }),
  );
  return exitCode(summary);
}
