import { exportVerifyKeys } from '../../integrity/verify-keys.js';
import { KeyError } from '../../errors.js';
import { loadKeyFile, writeNewKeyFile } from '../../node/key-file-io.js';
import { isSignatureAlg, SIGNATURE_ALGS } from '../../crypto/signature.js';
import { addIndexKeksFile, addSigningKeyFile, dropIndexSecretFile, keyFileStatus, retireKeyFileKek, rewrapKeyFile, rotateKeyFile } from '../../node/key-file-rotation.js';
import { parse, required, UsageError } from '../args.js';
import { EXIT, exitLine } from '../exit.js';

const EXITS = [EXIT.OK, EXIT.USAGE] as const;

export const help = `waybill-seal keys <list|rotate|rewrap|retire|add-integrity|export-verify|add-index-keks|drop-index-secret> --keys keys.json [--version N] [--integrity ed25519|sm2] [--accept-previous] [--force] [--out FILE] [--json]

KEK rotation for a local key file, without downtime (sealing may go on meanwhile):
  list     KEK versions (numbered from 1 in creation order), which is current, and how many data
           keys each wraps
  rotate   add a new KEK version with fresh KEKs and make it current (new data keys use it)
  rewrap   re-wrap every data key under the current KEK version; no field is re-encrypted.
           Resumable and idempotent: stop it at any point and run it again
  retire   remove KEK version N (--version N); refused while it is current or still wraps a
           data key (run rewrap first, after every sealing process has reloaded the key file)
  add-integrity  add a signing key (--integrity ed25519|sm2) to an existing key file and make
           sealers built from it sign their record tags (as keygen --integrity does). Refused if the
           file holds a key of that algorithm already; --force adds a new version. Records tagged
           before are refused by open until re-tagged, unless --accept-previous lists the key that
           tagged them in the file's "integrityAccept" (remove the entry when they are re-tagged:
           whoever holds that key can make such tags). Then run export-verify for the printers
  export-verify  write --out FILE (mode 0600, never overwritten): the public keys of the file's
           record signatures (keygen --integrity ed25519|sm2), for printers, stations, and
           "mask/verify --verify-key FILE". It holds no secret: it cannot sign, open or search.
           Every signing key version the file holds, or only --version N[,M] (leave out a
           compromised version: printers then refuse its signatures)
           Refused for HMAC record tags (checking those needs the secret that makes them)
  add-index-keks  (key files written before per-month index keys) add a KEK for each index key
           class (<class>-index) the current KEK version lacks; new seals then write tokens of
           per-month index keys. Idempotent
  drop-index-secret  remove the file's index secret. Nothing uses it any more; whoever holds it
           computes every token made from it. Run it once reindex (waybill-seal/search) has moved
           every stored record to per-month tokens; backups taken before still hold the old tokens

Example:
  waybill-seal keys rotate --keys keys.json && waybill-seal keys rewrap --keys keys.json
  waybill-seal keys list --keys keys.json
  waybill-seal keys retire --version 1 --keys keys.json
  waybill-seal keys add-integrity --keys keys.json --integrity ed25519 --accept-previous
  waybill-seal keys export-verify --keys keys.json --out verify.json
  waybill-seal keys add-index-keks --keys keys.json     # then reindex, then:
  waybill-seal keys drop-index-secret --keys keys.json

${exitLine(EXITS)}
1 also: a refused retire or add-integrity.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    keys: { type: 'string' },
    version: { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
    integrity: { type: 'string' },
    force: { type: 'boolean' },
    'accept-previous': { type: 'boolean' },
  });
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const path = required(values, 'keys');
  const json = values['json'] === true;
  const out = (o: unknown, text: string) => process.stdout.write(json ? `${JSON.stringify(o)}\n` : `${text}\n`);

  switch (action) {
    case 'list': {
      const s = await keyFileStatus(path);
      const rows = s.versions.map(
        (v) => `${v.current ? '*' : ' '} v${v.version}  ${v.createdAt}  ${v.alg}  ${v.keyClasses.join(',')}  ${v.dataKeys} data key${v.dataKeys === 1 ? '' : 's'}`,
      );
      const elsewhere = Object.entries(s.elsewhere).map(([id, n]) => `  ${id}: ${n} data key${n === 1 ? '' : 's'} (KEK not in this file)`);
      const retired = s.retired.map((r) => `  v${r.version} retired ${r.retiredAt}`);
      out(s, [
        'KEK versions (* = current):',
        ...rows,
        ...(retired.length ? ['retired:', ...retired] : []),
        ...(elsewhere.length ? ['elsewhere:', ...elsewhere] : []),
        `data keys: ${s.dataKeys} (${s.shredded} shredded, ${s.retiredDataKeys} retired)`,
      ].join('\n'));
      return 0;
    }
    case 'rotate': {
      const version = await rotateKeyFile(path);
      out({ currentKek: version }, `KEK version ${version} added and current; now run: waybill-seal keys rewrap --keys ${path}`);
      return 0;
    }
    case 'rewrap': {
      const s = await rewrapKeyFile(path);
      out(s, `rewrapped ${s.rewrapped} data key${s.rewrapped === 1 ? '' : 's'} (${s.alreadyCurrent} already current, ${s.skipped} skipped, ${s.conflicts} conflicts resolved)`);
      return 0;
    }
    case 'retire': {
      const v = values['version'];
      if (typeof v !== 'string' || !/^[1-9][0-9]{0,8}$/.test(v)) throw new UsageError('--version N is required (a KEK version number)');
      await retireKeyFileKek(path, Number(v));
      out({ retired: Number(v) }, `KEK version ${v} removed from ${path}`);
      return 0;
    }
    case 'add-integrity': {
      const alg = values['integrity'];
      if (!isSignatureAlg(alg)) throw new UsageError(`--integrity ${SIGNATURE_ALGS.join('|')} is required (HMAC tags need no key to add)`);
      const r = await addSigningKeyFile(path, alg, { force: values['force'] === true, acceptPrevious: values['accept-previous'] === true });
      const accepting = r.accept.length > 0 ? `; also accepted: ${r.accept.join(', ')}` : '';
      out({ alg, version: r.version, accept: r.accept }, `${alg} signing key v${r.version} added to ${path}; record tags are now ${alg} signatures${accepting}. Now run: waybill-seal keys export-verify --keys ${path} --out verify.json`);
      return 0;
    }
    case 'export-verify': {
      const target = required(values, 'out');
      const keys = await loadKeyFile(path);
      try {
        const alg = keys.file.integrity;
        if (alg === undefined) {
          throw new KeyError('no_signing_key', `${path} uses HMAC record tags: whoever can check them can forge them, so there is no verify-only form (make signing keys with "waybill-seal keygen --integrity ed25519")`);
        }
        const v = values['version'];
        if (v !== undefined && (typeof v !== 'string' || !/^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8})*$/.test(v))) throw new UsageError('--version must be N or N,M (signing key versions)');
        const file = await exportVerifyKeys(keys.keyring, alg, typeof v === 'string' ? [...new Set(v.split(',').map(Number))] : undefined);
        await writeNewKeyFile(target, file);
        out({ alg, versions: file.keys.map((k) => k.version) }, `wrote ${target}: ${alg} public keys v${file.keys.map((k) => k.version).join(', v')} (no secret; give it to printers and stations)`);
      } finally {
        keys.keyring.close();
      }
      return 0;
    }
    case 'add-index-keks': {
      const added = await addIndexKeksFile(path);
      out({ added }, added.length > 0 ? `KEKs for ${added.join(', ')} added to ${path}` : `${path} already holds a KEK for every index key class`);
      return 0;
    }
    case 'drop-index-secret': {
      const held = await dropIndexSecretFile(path);
      out({ dropped: held }, held ? `index secret removed from ${path} (backups of the file, and of records not re-indexed, still hold what it computes)` : `${path} holds no index secret`);
      return 0;
    }
    default:
      throw new UsageError(
        action === undefined ? 'keys needs an action: list, rotate, rewrap, retire, add-integrity, export-verify, add-index-keks or drop-index-secret' : `unknown keys action "${action}"`,
      );
  }
}
