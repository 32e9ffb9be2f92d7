import { mask } from '../../seal/mask-view.js';
import { parse } from '../args.js';
import { openStreams, runJsonl } from '../io.js';
import { schemaByName } from '../schemas.js';
import { exitCode } from './shared.js';

export const help = `waybill-seal mask [--profile label|screen] [--schema waybill] [--in FILE] [--out FILE]

Sealed JSON Lines in, masked JSON Lines out: each protected field becomes its stored mask
string. Needs no keys.

Example:
  waybill-seal mask --profile label --in sealed.jsonl`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { profile: { type: 'string', default: 'screen' } });
  const schema = schemaByName(values['schema'] as string);
  const profile = values['profile'] as string;
  const summary = await runJsonl(openStreams(values['in'] as string | undefined, values['out'] as string | undefined), async (rec) =>
    JSON.stringify(mask(schema, rec as never, profile)),
  );
  return exitCode(summary);
}
