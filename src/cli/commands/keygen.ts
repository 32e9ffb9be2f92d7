import { isSuiteName, SUITES } from '../../crypto/aead.js';
import { defaultKekAlg } from '../../keys/key-file.js';
import { createKeyFile } from '../../node/key-file-io.js';
import { parse, required, UsageError } from '../args.js';

export const help = `waybill-seal keygen --out keys.json [--suite ${SUITES.join('|')}]

Writes a new local keyring: one KEK per key class (contact, address, identity, note),
index/audit/integrity secrets (256-bit), and an empty data-key list. File mode 0600; never overwrites.
--suite is the default suite of sealers built from the file (default xchacha20-poly1305). With
sm4-gcm the KEKs are 128-bit SM4 keys that wrap data keys with SM4-GCM; otherwise they are
256-bit XChaCha20-Poly1305 keys. For a GB/T 39786 assessment keep the KEKs in a certified HSM or KMS.

Examples:
  waybill-seal keygen --out keys.json
  waybill-seal keygen --out keys-cn.json --suite sm4-gcm`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { suite: { type: 'string', default: 'xchacha20-poly1305' } });
  const out = required(values, 'out');
  const suite = values['suite'];
  if (!isSuiteName(suite)) throw new UsageError(`unknown suite "${String(suite)}" (known: ${SUITES.join(', ')})`);
  await createKeyFile(out, suite);
  process.stderr.write(`wrote ${out} (mode 0600, suite ${suite}, ${defaultKekAlg(suite)} KEKs): keep it secret and backed up\n`);
  return 0;
}
