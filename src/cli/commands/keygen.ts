import { isSuiteName } from '../../crypto/aead.js';
import { createKeyFile } from '../../node/key-file-io.js';
import { parse, required, UsageError } from '../args.js';

export const help = `waybill-seal keygen --out keys.json [--suite xchacha20-poly1305|aes-256-gcm]

Writes a new local keyring: one 256-bit KEK per key class (contact, address, identity, note),
index/audit/integrity secrets, and an empty data-key list. File mode 0600; never overwrites.

Example:
  waybill-seal keygen --out keys.json`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { suite: { type: 'string', default: 'xchacha20-poly1305' } });
  const out = required(values, 'out');
  if (!isSuiteName(values['suite'])) throw new UsageError(`unknown suite "${String(values['suite'])}"`);
  await createKeyFile(out, values['suite']);
  process.stderr.write(`wrote ${out} (mode 0600): keep it secret and backed up\n`);
  return 0;
}
