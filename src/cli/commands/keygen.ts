import { isSuiteName, SUITES } from '../../crypto/aead.js';
import { isSignatureAlg, newSigningKey, SIGNATURE_ALGS } from '../../crypto/signature.js';
import { wipe } from '../../crypto/bytes.js';
import { defaultKekAlg, KEY_FILE_FORMAT, newKeyFile, withSigningKey, type KeyFile } from '../../keys/key-file.js';
import { generateLocalKeyMaterial } from '../../keys/local-keyring.js';
import { writeNewKeyFile } from '../../node/key-file-io.js';
import { KEY_CLASSES, keyClassProblem } from '../../schema/kinds.js';
import { protectedFields } from '../../schema/paths.js';
import { parse, required, UsageError } from '../args.js';
import { loadSchema } from '../schemas.js';
import { backendLine } from './shared.js';
import { EXIT, exitLine } from '../exit.js';

const EXITS = [EXIT.OK, EXIT.USAGE] as const;

export const help = `waybill-seal keygen --out keys.json [--suite ${SUITES.join('|')}] [--integrity hmac|${SIGNATURE_ALGS.join('|')}] [--schema FILE.json] [--classes C,C] [--quiet]

Writes a new local keyring: one KEK per key class (contact, address, identity, note, plus the
custom key classes of --schema FILE.json and --classes) and one per index key class
(<class>-index: the random per-month keys that make search tokens are wrapped under it, kept in
the file's data keys and shredded with the month's data keys), an audit secret (256-bit), the
record tag key (an HMAC integrity secret, or with --integrity ed25519|sm2 only the private signing
key), and an empty data-key list. No secret derives search tokens. File mode 0600; never overwrites.
--suite is the default suite of sealers built from the file (default xchacha20-poly1305). With
sm4-gcm the KEKs are 128-bit SM4 keys that wrap data keys with SM4-GCM; otherwise they are
256-bit XChaCha20-Poly1305 keys. For a GB/T 39786 assessment keep the KEKs in a certified HSM or KMS.
--integrity: how sealers built from the file tag records. hmac (default, fastest): whoever checks
tags can also make them. ed25519 or sm2: records are signed with a private key kept in this file;
printers and stations check them with a public key only ("waybill-seal keys export-verify").
sm2 needs the optional package sm-crypto-v2.

Examples:
  waybill-seal keygen --out keys.json
  waybill-seal keygen --out keys.json --integrity ed25519 && waybill-seal keys export-verify --keys keys.json --out verify.json
  waybill-seal keygen --out keys-cn.json --suite sm4-gcm --integrity sm2
  waybill-seal keygen --out parcel-keys.json --schema parcel.json   # KEKs for its custom key classes too

${exitLine(EXITS)}
1 also: the file exists.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    suite: { type: 'string', default: 'xchacha20-poly1305' },
    classes: { type: 'string' },
    integrity: { type: 'string', default: 'hmac' },
    'index-keys': { type: 'string' },
  });
  const out = required(values, 'out');
  const suite = values['suite'];
  if (!isSuiteName(suite)) throw new UsageError(`unknown suite "${String(suite)}" (known: ${SUITES.join(', ')})`);
  const integrity = values['integrity'];
  if (integrity !== 'hmac' && !isSignatureAlg(integrity)) throw new UsageError(`--integrity must be hmac, ${SIGNATURE_ALGS.join(' or ')}`);
  // Accepted for scripts written when it was an option; index keys always live in the key store now.
  const indexKeys = values['index-keys'];
  if (indexKeys !== undefined && indexKeys !== 'key-store') throw new UsageError('--index-keys secret was removed: search tokens come from per-month index keys');
  const extra = new Set<string>();
  for (const c of typeof values['classes'] === 'string' ? values['classes'].split(',') : []) {
    const name = c.trim();
    const problem = keyClassProblem(name);
    if (problem) throw new UsageError(`--classes: "${name}" is not a field key class name: ${problem}`);
    extra.add(name);
  }
  const { schema } = await loadSchema(values['schema'] as string);
  for (const def of protectedFields(schema).values()) extra.add(def.keyClass);
  for (const c of KEY_CLASSES) extra.delete(c);
  let file: KeyFile = newKeyFile(suite);
  if (extra.size > 0) file = { ...file, ...generateLocalKeyMaterial([...KEY_CLASSES, ...extra], { kekAlg: defaultKekAlg(suite) }), format: KEY_FILE_FORMAT };
  if (isSignatureAlg(integrity)) {
    const key = await newSigningKey(integrity);
    // No HMAC integrity secret: nothing in a signing deployment needs one, and a copy handed out
    // could otherwise be offered as a way to vouch for records.
    const { integrity: _hmac, ...secrets } = file.secrets ?? {};
    file = withSigningKey({ ...file, secrets }, integrity, key);
    wipe(key);
  }
  await writeNewKeyFile(out, file);
  if (values['quiet'] !== true) {
    process.stderr.write(
      `wrote ${out} (mode 0600, suite ${suite}, ${defaultKekAlg(suite)} KEKs${extra.size ? `, key classes ${[...KEY_CLASSES, ...extra].join(', ')}` : ''}, ${integrity} record tags, per-month index keys): keep it secret and backed up\n${await backendLine()}\n`,
    );
  }
  return 0;
}
