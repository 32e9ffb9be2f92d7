import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { KeyError } from '../../errors.js';
import { createVerifier } from '../../integrity/verify.js';
import { decodeKey } from '../../keys/local-keyring.js';
import { readKeyFileJson } from '../../node/key-file-io.js';
import type { SecretName } from '../../keys/keyring.js';
import { isPlainObject } from '../../schema/walk.js';
import { parse, required } from '../args.js';
import { EXIT } from '../exit.js';
import { loadSchema } from '../schemas.js';

export const help = `waybill-seal verify --keys FILE [--schema waybill|FILE.json] [--in FILE]

Checks the integrity tag of every sealed record (JSON Lines in): masks, tokens, ciphertexts and
signed plain fields (district, routing, items, weight) must be as sealed. Prints one JSON line per
record: {"line":N,"ok":true} or {"line":N,"ok":false,"path":"receiver.mobile","reason":"altered"}.
Needs only the integrity secret: a full key file works, and so does a verify-only file holding just
{"secrets":{"integrity":[…]}} (what a label printer or sorting centre should get). Decrypts nothing.

Examples:
  waybill-seal verify --keys printer-keys.json --in sealed.jsonl
  waybill-seal verify --keys keys.json < sealed.jsonl | grep '"ok":false'

Exit codes: 0 every record verifies, 2 some record failed (or was not valid JSON), 1 usage or key error.`;

/** The integrity secrets of a key file (full or verify-only), as a key source: no KEK is read. */
async function integrityKeys(path: string) {
  const json = await readKeyFileJson(path);
  const list = isPlainObject(json) && isPlainObject(json['secrets']) ? json['secrets']['integrity'] : undefined;
  if (!Array.isArray(list) || list.length === 0) throw new KeyError('no_secret', `${path} holds no integrity secret`);
  const keys = new Map<number, Uint8Array>();
  for (const s of list) {
    if (!isPlainObject(s) || !Number.isSafeInteger(s['version'])) throw new KeyError('bad_key_file', `${path}: malformed integrity secret`);
    keys.set(s['version'] as number, decodeKey(s['key'], `integrity secret v${String(s['version'])}`));
  }
  return {
    async secret(_name: SecretName, version?: number) {
      const key = keys.get(version ?? Math.max(...keys.keys()));
      if (!key) throw new KeyError('no_secret', `no integrity secret v${String(version)}`);
      return key;
    },
    async secretVersions() {
      return [...keys.keys()].sort((a, b) => a - b);
    },
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { keys: { type: 'string' } });
  const { schema } = await loadSchema(values['schema'] as string);
  const verifier = createVerifier(await integrityKeys(required(values, 'keys')));
  const input = typeof values['in'] === 'string' ? createReadStream(values['in']) : process.stdin;
  let line = 0;
  let failed = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      failed++;
      process.stdout.write(`${JSON.stringify({ line, ok: false, path: '', reason: 'invalid_json' })}\n`);
      continue;
    }
    const verdict = await verifier.verify(schema, record as never);
    if (!verdict.ok) failed++;
    process.stdout.write(`${JSON.stringify({ line, ...verdict })}\n`);
  }
  verifier.close();
  if (failed > 0) process.stderr.write(`${failed} of the records failed verification\n`);
  return failed > 0 ? EXIT.REJECTED : EXIT.OK;
}
