import { loadKeyFile } from '../../node/key-file-io.js';
import { createSealer } from '../../seal/sealer.js';
import { parse, required } from '../args.js';
import { openStreams, runJsonl } from '../io.js';
import { schemaByName } from '../schemas.js';
import { exitCode, warnKeyFile } from './shared.js';

export const help = `waybill-seal open --keys keys.json --principal ID --purpose P [--fields a.b,c.d] [--schema waybill] [--in FILE] [--out FILE]

Sealed JSON Lines in, opened JSON Lines out. Fields not listed in --fields keep their screen masks.

Example:
  waybill-seal open --keys keys.json --principal courier-17 --purpose deliver --fields receiver.mobile`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    keys: { type: 'string' },
    principal: { type: 'string' },
    purpose: { type: 'string' },
    fields: { type: 'string' },
  });
  const schema = schemaByName(values['schema'] as string);
  const principal = required(values, 'principal');
  const purpose = required(values, 'purpose');
  const fields = typeof values['fields'] === 'string' ? values['fields'].split(',').map((f) => f.trim()).filter(Boolean) : undefined;
  const keys = await loadKeyFile(required(values, 'keys'));
  warnKeyFile(keys);
  const sealer = createSealer({ keyring: keys.keyring, keyStore: keys.keyStore });
  const access = { principal, purpose, ...(fields ? { fields } : {}) };
  const summary = await runJsonl(openStreams(values['in'] as string | undefined, values['out'] as string | undefined), async (rec) =>
    JSON.stringify((await sealer.open(schema, rec as never, access)).record),
  );
  sealer.close();
  return exitCode(summary);
}
