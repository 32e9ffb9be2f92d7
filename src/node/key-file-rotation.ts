/**
 * KEK rotation for a key file (`waybill-seal keys …`). The file is both the keyring (KEK versions)
 * and the key store (data keys): every change happens under the same lock file as the store's
 * writes and replaces the file atomically, so sealing processes can keep writing data keys.
 *
 *   rotate  → a new KEK version (next number ever used) with fresh KEKs; it becomes current
 *   rewrap  → every data key re-wrapped under the current version (compare-and-swap per key)
 *   retire  → a version removed from the file; refused while it is current or wraps any data key
 */
import { KeyError } from '../errors.js';
import { wipe } from '../crypto/bytes.js';
import { newSigningKey, type SignatureAlg } from '../crypto/signature.js';
import { parseKeyFile, withIndexKeks, withoutIndexSecret, withSigningKey, type KeyFile } from '../keys/key-file.js';
import { kekId as localKekId } from '../keys/local-keyring.js';
import {
  addKekVersion,
  kekUsage,
  removeKekVersion,
  rewrapDataKeys,
  type RetiredKek,
  type RewrapOptions,
  type RewrapSummary,
  type RotatableKeyMaterial,
} from '../keys/rotation.js';
import { writeFileAtomic } from './file-writes.js';
import { lockKeyFile } from './json-file-key-store.js';
import { loadKeyFile, readKeyFileJson } from './key-file-io.js';

export interface KekVersionStatus {
  readonly version: number;
  readonly createdAt: string;
  readonly alg: string;
  readonly current: boolean;
  readonly keyClasses: readonly string[];
  /** Live (not shredded) data keys wrapped under this version. */
  readonly dataKeys: number;
}

export interface KeyFileStatus {
  readonly versions: readonly KekVersionStatus[];
  readonly currentKek: number;
  readonly retired: readonly RetiredKek[];
  /** Live data keys under KEKs this file does not hold (an HSM, KMS, or a lost version). */
  readonly elsewhere: Readonly<Record<string, number>>;
  readonly dataKeys: number;
  readonly shredded: number;
  readonly retiredDataKeys: number;
}

type Doc = KeyFile & { retiredKeks?: readonly RetiredKek[] };

export async function keyFileStatus(path: string): Promise<KeyFileStatus> {
  const doc = await readDoc(path);
  const usage = new Map<string, number>();
  for (const r of doc.dataKeys) if (r.shreddedAt === undefined) usage.set(r.kekId, (usage.get(r.kekId) ?? 0) + 1);
  const known = new Set<string>();
  const versions = [...doc.keks]
    .sort((a, b) => a.version - b.version)
    .map((v) => {
      const classes = Object.keys(v.keys).sort();
      let n = 0;
      for (const c of classes) {
        const id = localKekId(v.version, c);
        known.add(id);
        n += usage.get(id) ?? 0;
      }
      return { version: v.version, createdAt: v.createdAt, alg: v.alg ?? 'xchacha20-poly1305', current: v.version === doc.currentKek, keyClasses: classes, dataKeys: n };
    });
  const elsewhere: Record<string, number> = {};
  for (const [id, n] of usage) if (!known.has(id)) elsewhere[id] = n;
  return {
    versions,
    currentKek: doc.currentKek,
    retired: doc.retiredKeks ?? [],
    elsewhere,
    dataKeys: doc.dataKeys.length,
    shredded: doc.dataKeys.filter((r) => r.shreddedAt !== undefined).length,
    retiredDataKeys: doc.dataKeys.filter((r) => r.retiredAt !== undefined && r.shreddedAt === undefined).length,
  };
}

/** Adds a KEK version and makes it current. Returns its number. */
export async function rotateKeyFile(path: string): Promise<number> {
  let version = 0;
  await updateDoc(path, (doc) => {
    const next = addKekVersion(doc as RotatableKeyMaterial & Doc);
    version = next.currentKek;
    return next;
  });
  return version;
}

/** Re-wraps every data key in the file under its current KEK version. Resumable, idempotent. */
export async function rewrapKeyFile(path: string, options: RewrapOptions = {}): Promise<RewrapSummary> {
  const keys = await loadKeyFile(path);
  try {
    return await rewrapDataKeys(keys.keyring, keys.keyStore, options);
  } finally {
    keys.keyring.close();
  }
}

/** Removes KEK version `version`; refused while current or while any live data key is wrapped under it. */
export async function retireKeyFileKek(path: string, version: number): Promise<void> {
  await updateDoc(path, (doc) => {
    const usage = new Map<string, number>();
    for (const r of doc.dataKeys) if (r.shreddedAt === undefined) usage.set(r.kekId, (usage.get(r.kekId) ?? 0) + 1);
    return removeKekVersion(doc as RotatableKeyMaterial & Doc, version, usage);
  });
}

export interface AddSigningKeyOptions {
  /** Add a new version when the file already holds a signing key of this algorithm (else refused). */
  readonly force?: boolean;
  /** Keep accepting the tag key the file's sealers wrote until now (`integrityAccept`). */
  readonly acceptPrevious?: boolean;
}

/**
 * Adds a signing key (`keys add-integrity`) to a key file and makes signatures of `alg` its record
 * tags, under the store's lock, written atomically. Returns the new key's version and the file's
 * `integrityAccept`. Refused (KeyError `signing_key_present`) if the file holds one already, unless `force`.
 */
export async function addSigningKeyFile(path: string, alg: SignatureAlg, options: AddSigningKeyOptions = {}): Promise<{ version: number; accept: readonly string[] }> {
  const key = await newSigningKey(alg);
  let result = { version: 0, accept: [] as readonly string[] };
  try {
    await updateDoc(path, (doc) => {
      const held = doc.secrets?.[alg] ?? [];
      if (held.length > 0 && options.force !== true) {
        throw new KeyError('signing_key_present', `${path} already holds an ${alg} signing key (v${held.map((s) => s.version).join(', v')}); --force adds a new version`);
      }
      const next = withSigningKey(doc, alg, key, options.acceptPrevious === true);
      result = { version: next.secrets![alg]!.at(-1)!.version, accept: next.integrityAccept ?? [] };
      return next;
    });
  } finally {
    wipe(key);
  }
  return result;
}

/** Adds KEKs for the index key classes a key file lacks (`keys add-index-keks`). Returns the classes added. */
export async function addIndexKeksFile(path: string): Promise<string[]> {
  let added: string[] = [];
  await updateDoc(path, (doc) => {
    const next = withIndexKeks(doc);
    const before = new Set(Object.keys(doc.keks.find((v) => v.version === doc.currentKek)?.keys ?? {}));
    added = Object.keys(next.keks.find((v) => v.version === next.currentKek)?.keys ?? {}).filter((c) => !before.has(c));
    return next;
  });
  return added;
}

/** Removes a key file's `index` secret (`keys drop-index-secret`). Returns whether it held one. */
export async function dropIndexSecretFile(path: string): Promise<boolean> {
  let held = false;
  await updateDoc(path, (doc) => {
    held = doc.secrets?.index !== undefined;
    return withoutIndexSecret(doc);
  });
  return held;
}

async function readDoc(path: string): Promise<Doc> {
  const doc = parseKeyFile(await readKeyFileJson(path)) as Doc;
  return { ...doc, dataKeys: doc.dataKeys ?? [] };
}

/** Read-modify-write of the KEK part under the store's lock; data keys are kept as they are on disk. */
async function updateDoc(path: string, fn: (doc: Doc) => Doc): Promise<void> {
  const release = await lockKeyFile(path);
  try {
    const doc = await readDoc(path);
    const next = fn(doc);
    await writeFileAtomic(path, `${JSON.stringify({ ...next, dataKeys: doc.dataKeys }, null, 2)}\n`);
  } finally {
    await release();
  }
}
