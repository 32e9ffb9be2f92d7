/**
 * Section `peers` (issue 6): the waybill workload (bench/workload.ts: seeded synthetic waybills, six
 * protected fields, two mobile search tokens) sealed and opened by waybill-seal and by each peer
 * library doing the same job, plus two hand-written references.
 *
 * Same job for everyone: each of the six fields is encrypted on its own (separately decryptable),
 * bound to its record where the library can bind anything; both mobiles get a keyed search token
 * (an HMAC, or the library's own blind index, over the normalised mobile); the result is a new record
 * (inputs are never mutated). Before timing, every contender's round trip and tokens are verified on
 * a sample. One operation = one waybill; figures are waybills per second (medians of interleaved
 * rounds, default 5), ratios are to waybill-seal.
 *
 * - `waybill-seal`: `createSealer` defaults (XChaCha20-Poly1305, HMAC-SHA-256 tokens, validation,
 *   label and screen masks, AAD binding, record integrity tag if the sealer writes one), native
 *   crypto where the runtime has it; `open` with the default redacted values.
 * - `waybill-seal (pure JS)`: the same with `backend: 'js'` (what browsers and edge runtimes run).
 * - `waybill-seal (integrity: false)`: informational, the default without the record integrity tag
 *   (what the tag costs).
 * - `node:crypto reference`: hand-written; per record a random data key wrapped with AES-KW
 *   (RFC 3394, `id-aes256-wrap`), AES-256-GCM per field (AAD: record id and field path), HMAC tokens.
 * - `noble reference`: the same layout in pure JS: noble AES-KW, noble XChaCha20-Poly1305, HMAC
 *   with the keyed state reused (cloned per token).
 * - `@47ng/cloak` (as prisma-field-encryption uses it): AES-256-GCM per field via `encryptStringSync`,
 *   no AAD, one key; tokens: HMAC-SHA-256 (node:crypto) of the normalised mobile.
 * - `ciphersweet-js`: `EncryptedRow` of the six fields (default BoringCrypto backend, record id as
 *   AAD source) with a fast-hash blind index on each mobile (normalising transformation).
 * - `@aws-crypto/client-node`: one message per field, raw AES keyring behind a caching materials
 *   manager, default (committing, signed) algorithm suite; HMAC tokens.
 * - `mongodb-client-encryption`: not installable here (its native build downloads libmongocrypt):
 *   reported as unavailable, never estimated.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes as nodeRandomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { aeskw } from '@noble/ciphers/aes.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes as nobleRandomBytes } from '@noble/ciphers/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64Url, toBase64Url } from '../src/crypto/bytes.js';
import { createSealer, LocalKeyring, MemoryKeyStore, newKeyFile, Redacted, type ProtectedPath, type SealedRecord } from '../src/index.js';
import type { BenchCase, CaseResult, Section } from './harness.js';
import { jobSchema, normalizeMobile, workload, type JobRecord } from './workload.js';

const require = createRequire(import.meta.url);

/** Records per contender pool (seal cycles through them; open cycles through their sealed forms). */
const POOL = 20_000;
/** Slow contenders seal a smaller pool during setup (the per-waybill job is the same). */
const SLOW_POOL = 400;
const VERIFY = 100;

export const CONTENDERS = [
  'waybill-seal',
  'waybill-seal (pure JS)',
  'waybill-seal (integrity: false)',
  'node:crypto reference',
  'noble reference',
  '@47ng/cloak',
  'ciphersweet-js',
  '@aws-crypto/client-node',
  'mongodb-client-encryption',
] as const;

type Sealed = unknown;
interface Contender {
  readonly name: string;
  readonly pool?: number;
  seal(r: JobRecord): Sealed | Promise<Sealed>;
  /** The library's own open (timed): whatever it returns. */
  open(s: Sealed): unknown;
  /** The opened record as plain strings (verification only, not timed). */
  plainOf?(opened: unknown): JobRecord;
  /** One field of a sealed record, decrypted alone (proves fields are separately decryptable). */
  openField(s: Sealed, field: Field): string | Promise<string>;
  /** The stored search token of a mobile field, and the token of a query value. */
  storedToken(s: Sealed, field: 'sender.mobile' | 'receiver.mobile'): string | undefined;
  queryToken(field: 'sender.mobile' | 'receiver.mobile', value: string): string | Promise<string>;
}

/** The six fields, with plain accessors every peer uses the same way. */
interface Field {
  readonly path: ProtectedPath<typeof jobSchema>;
  get(r: JobRecord): string;
  set(r: JobRecord, v: string): void;
}
const FIELDS: readonly Field[] = [
  { path: 'sender.name', get: (r) => r.sender.name, set: (r, v) => void (r.sender.name = v) },
  { path: 'sender.mobile', get: (r) => r.sender.mobile!, set: (r, v) => void (r.sender.mobile = v) },
  { path: 'sender.address.detail', get: (r) => r.sender.address.detail, set: (r, v) => void (r.sender.address.detail = v) },
  { path: 'receiver.name', get: (r) => r.receiver.name, set: (r, v) => void (r.receiver.name = v) },
  { path: 'receiver.mobile', get: (r) => r.receiver.mobile!, set: (r, v) => void (r.receiver.mobile = v) },
  { path: 'receiver.address.detail', get: (r) => r.receiver.address.detail, set: (r, v) => void (r.receiver.address.detail = v) },
];
const MOBILES = ['sender.mobile', 'receiver.mobile'] as const;
const fieldOf = (path: string): Field => FIELDS.find((f) => f.path === path)!;

/** A new record object (nested objects copied, so the input is never mutated). */
function copy(r: JobRecord): JobRecord & { tokens?: Record<string, string>; dk?: string } {
  return { ...r, sender: { ...r.sender, address: { ...r.sender.address } }, receiver: { ...r.receiver, address: { ...r.receiver.address } } };
}

type PeerRecord = JobRecord & { tokens: Record<string, string>; dk?: string };

// ---- waybill-seal ----

function waybillSeal(name: string, backend: 'auto' | 'js', integrity = true): Contender {
  const sealer = createSealer({
    keyring: new LocalKeyring(newKeyFile('xchacha20-poly1305')),
    keyStore: new MemoryKeyStore(),
    guard: 'allow-all',
    backend,
    ...(integrity ? {} : { integrity: false }),
  });
  const access = { principal: 'bench', purpose: 'bench' } as const;
  const reveal = (v: unknown): string => (v instanceof Redacted ? String(v.reveal()) : String(v));
  return {
    name,
    seal: (r) => sealer.seal(jobSchema, r),
    open: (s) => sealer.open(jobSchema, s as SealedRecord<typeof jobSchema>, access),
    plainOf(opened) {
      const out = (opened as { record: unknown }).record as JobRecord;
      for (const f of FIELDS) f.set(out, reveal(f.get(out)));
      return out;
    },
    async openField(s, field) {
      const { record, opened } = await sealer.open(jobSchema, s as SealedRecord<typeof jobSchema>, { ...access, fields: [field.path], reveal: 'plain' });
      if (opened.length !== 1) throw new Error(`${name}: opening one field opened ${opened.length}`);
      return field.get(record as unknown as JobRecord);
    },
    storedToken: (s, field) => (s as SealedRecord<typeof jobSchema>)[field.split('.')[0] as 'sender'].mobile?.tok?.[field],
    queryToken: async (field, value) => (await sealer.tokensFor(jobSchema, field, value, { principal: 'bench' }))[0]!,
  };
}

// ---- hand-written references ----

const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

function nodeReference(): Contender {
  const kek = nodeRandomBytes(32);
  const tokenKey = nodeRandomBytes(32);
  const token = (mobile: string) => createHmac('sha256', tokenKey).update(normalizeMobile(mobile)).digest('base64url');
  const unwrap = (s: PeerRecord) => {
    const d = createDecipheriv('id-aes256-wrap', kek, KW_IV);
    return Buffer.concat([d.update(Buffer.from(s.dk!, 'base64url')), d.final()]);
  };
  const decrypt = (dk: Buffer, recordId: string, path: string, enc: string) => {
    const b = Buffer.from(enc, 'base64url');
    const d = createDecipheriv('aes-256-gcm', dk, b.subarray(0, 12), { authTagLength: 16 });
    d.setAAD(Buffer.from(`${recordId}\u0000${path}`));
    d.setAuthTag(b.subarray(b.length - 16));
    return d.update(b.subarray(12, b.length - 16), undefined, 'utf8') + d.final('utf8');
  };
  return {
    name: 'node:crypto reference',
    seal(r) {
      const dk = nodeRandomBytes(32);
      const w = createCipheriv('id-aes256-wrap', kek, KW_IV);
      const out = copy(r) as PeerRecord;
      out.dk = Buffer.concat([w.update(dk), w.final()]).toString('base64url');
      for (const f of FIELDS) {
        const iv = nodeRandomBytes(12);
        const c = createCipheriv('aes-256-gcm', dk, iv, { authTagLength: 16 });
        c.setAAD(Buffer.from(`${r.waybillNo}\u0000${f.path}`));
        const ct = c.update(f.get(r), 'utf8');
        c.final();
        f.set(out, Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64url'));
      }
      out.tokens = { 'sender.mobile': token(r.sender.mobile!), 'receiver.mobile': token(r.receiver.mobile!) };
      dk.fill(0);
      return out;
    },
    open(sealed) {
      const s = sealed as PeerRecord;
      const dk = unwrap(s);
      const out = copy(s) as PeerRecord;
      for (const f of FIELDS) f.set(out, decrypt(dk, s.waybillNo, f.path, f.get(s)));
      dk.fill(0);
      return out;
    },
    openField: (sealed, f) => decrypt(unwrap(sealed as PeerRecord), (sealed as PeerRecord).waybillNo, f.path, f.get(sealed as PeerRecord)),
    storedToken: (s, field) => (s as PeerRecord).tokens[field],
    queryToken: (_field, value) => token(value),
  };
}

function nobleReference(): Contender {
  const kek = nobleRandomBytes(32);
  const tokenState = hmac.create(sha256, nobleRandomBytes(32));
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const token = (mobile: string) => toBase64Url(tokenState.clone().update(enc.encode(normalizeMobile(mobile))).digest());
  const aad = (recordId: string, path: string) => enc.encode(`${recordId}\u0000${path}`);
  const decrypt = (dk: Uint8Array, recordId: string, path: string, text: string) => {
    const b = fromBase64Url(text)!;
    return dec.decode(xchacha20poly1305(dk, b.subarray(0, 24), aad(recordId, path)).decrypt(b.subarray(24)));
  };
  return {
    name: 'noble reference',
    seal(r) {
      const dk = nobleRandomBytes(32);
      const out = copy(r) as PeerRecord;
      out.dk = toBase64Url(aeskw(kek).encrypt(dk));
      const nonces = nobleRandomBytes(24 * FIELDS.length);
      FIELDS.forEach((f, i) => {
        const nonce = nonces.subarray(24 * i, 24 * i + 24);
        const ct = xchacha20poly1305(dk, nonce, aad(r.waybillNo, f.path)).encrypt(enc.encode(f.get(r)));
        f.set(out, toBase64Url(nonce) + toBase64Url(ct));
      });
      out.tokens = { 'sender.mobile': token(r.sender.mobile!), 'receiver.mobile': token(r.receiver.mobile!) };
      dk.fill(0);
      return out;
    },
    open(sealed) {
      const s = sealed as PeerRecord;
      const dk = aeskw(kek).decrypt(fromBase64Url(s.dk!)!);
      const out = copy(s) as PeerRecord;
      for (const f of FIELDS) f.set(out, decrypt(dk, s.waybillNo, f.path, f.get(s)));
      dk.fill(0);
      return out;
    },
    openField: (sealed, f) => decrypt(aeskw(kek).decrypt(fromBase64Url((sealed as PeerRecord).dk!)!), (sealed as PeerRecord).waybillNo, f.path, f.get(sealed as PeerRecord)),
    storedToken: (s, field) => (s as PeerRecord).tokens[field],
    queryToken: (_field, value) => token(value),
  };
}

// ---- peers ----

function cloak(): Contender {
  const c = require('@47ng/cloak') as {
    generateKey(): string;
    parseKeySync(k: string): unknown;
    encryptStringSync(input: string, key: unknown): string;
    decryptStringSync(input: string, key: unknown): string;
  };
  const key = c.parseKeySync(c.generateKey());
  const tokenKey = nodeRandomBytes(32);
  const token = (mobile: string) => createHmac('sha256', tokenKey).update(normalizeMobile(mobile)).digest('base64url');
  return {
    name: '@47ng/cloak',
    seal(r) {
      const out = copy(r) as PeerRecord;
      for (const f of FIELDS) f.set(out, c.encryptStringSync(f.get(r), key));
      out.tokens = { 'sender.mobile': token(r.sender.mobile!), 'receiver.mobile': token(r.receiver.mobile!) };
      return out;
    },
    open(sealed) {
      const out = copy(sealed as PeerRecord) as PeerRecord;
      for (const f of FIELDS) f.set(out, c.decryptStringSync(f.get(sealed as PeerRecord), key));
      return out;
    },
    openField: (sealed, f) => c.decryptStringSync(f.get(sealed as PeerRecord), key),
    storedToken: (s, field) => (s as PeerRecord).tokens[field],
    queryToken: (_field, value) => token(value),
  };
}

const COLUMNS: Record<string, string> = {
  'sender.name': 'sender_name',
  'sender.mobile': 'sender_mobile',
  'sender.address.detail': 'sender_address',
  'receiver.name': 'receiver_name',
  'receiver.mobile': 'receiver_mobile',
  'receiver.address.detail': 'receiver_address',
};

function ciphersweet(): Contender {
  const cs = require('ciphersweet-js') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  class NormalizeMobile extends cs['Transformation'] {
    async invoke(input: unknown): Promise<Buffer> {
      return Buffer.from(normalizeMobile(Buffer.isBuffer(input) ? input.toString('utf8') : String(input)));
    }
  }
  const engine = new cs['CipherSweet'](new cs['StringProvider'](nodeRandomBytes(32).toString('hex')));
  const row = new cs['EncryptedRow'](engine, 'waybills');
  for (const column of Object.values(COLUMNS)) row.addTextField(column, 'waybill_no');
  for (const m of MOBILES) row.addBlindIndex(COLUMNS[m], new cs['BlindIndex'](`${COLUMNS[m]}_idx`, [new NormalizeMobile()], 32, true));
  // ciphersweet-js reads text fields as 'binary' (latin1) strings: UTF-8 goes in as a Buffer and
  // comes back as a binary string, which the application decodes.
  const toRow = (r: JobRecord) => {
    const out: Record<string, string | Buffer> = { waybill_no: r.waybillNo };
    for (const f of FIELDS) out[COLUMNS[f.path]!] = Buffer.from(f.get(r), 'utf8');
    return out;
  };
  const text = (v: unknown) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'binary')).toString('utf8');
  type CsSealed = { record: JobRecord; row: Record<string, string>; indexes: Record<string, string> };
  const index = (i: unknown): string => (typeof i === 'string' ? i : Buffer.isBuffer(i) ? i.toString('hex') : JSON.stringify(i));
  return {
    name: 'ciphersweet-js',
    pool: SLOW_POOL * 5,
    async seal(r) {
      const [encrypted, indexes] = (await row.prepareRowForStorage(toRow(r))) as [Record<string, string>, Record<string, unknown>];
      const out = copy(r);
      for (const f of FIELDS) f.set(out, encrypted[COLUMNS[f.path]!]!);
      return { record: out, row: encrypted, indexes: Object.fromEntries(Object.entries(indexes).map(([k, v]) => [k, index(v)])) } satisfies CsSealed;
    },
    async open(sealed) {
      const s = sealed as CsSealed;
      const plain = (await row.decryptRow(s.row)) as Record<string, string>;
      const out = copy(s.record);
      for (const f of FIELDS) f.set(out, text(plain[COLUMNS[f.path]!]));
      return out;
    },
    async openField(sealed, f) {
      const s = sealed as CsSealed;
      const field = new cs['EncryptedField'](engine, 'waybills', COLUMNS[f.path]);
      return text(await field.decryptValue(s.row[COLUMNS[f.path]!], s.row['waybill_no']));
    },
    storedToken: (s, field) => (s as CsSealed).indexes[`${COLUMNS[field]}_idx`],
    async queryToken(field, value) {
      const probe = toRow({ waybillNo: 'probe', sender: { name: 'x', mobile: value, address: { detail: 'x' } }, receiver: { name: 'x', mobile: value, address: { detail: 'x' } } } as unknown as JobRecord);
      return index(await row.getBlindIndex(`${COLUMNS[field]}_idx`, probe));
    },
  };
}

function awsCrypto(): Contender {
  const aws = require('@aws-crypto/client-node') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const { encrypt, decrypt } = aws['buildClient'](aws['CommitmentPolicy'].REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const keyring = new aws['RawAesKeyringNode']({
    keyName: 'waybill',
    keyNamespace: 'bench',
    unencryptedMasterKey: new Uint8Array(nodeRandomBytes(32)),
    wrappingSuite: aws['RawAesWrappingSuiteIdentifier'].AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  const cmm = new aws['NodeCachingMaterialsManager']({
    backingMaterials: keyring,
    cache: aws['getLocalCryptographicMaterialsCache'](1000),
    maxAge: 600_000,
    maxMessagesEncrypted: 2 ** 30,
  });
  const tokenKey = nodeRandomBytes(32);
  const token = (mobile: string) => createHmac('sha256', tokenKey).update(normalizeMobile(mobile)).digest('base64url');
  const context = { table: 'waybills' };
  const openOne = async (text: string) => {
    const { plaintext } = await decrypt(cmm, Buffer.from(text, 'base64'));
    return (plaintext as Buffer).toString('utf8');
  };
  return {
    name: '@aws-crypto/client-node',
    pool: SLOW_POOL,
    async seal(r) {
      const out = copy(r) as PeerRecord;
      for (const f of FIELDS) {
        const { result } = await encrypt(cmm, f.get(r), { encryptionContext: context });
        f.set(out, (result as Buffer).toString('base64'));
      }
      out.tokens = { 'sender.mobile': token(r.sender.mobile!), 'receiver.mobile': token(r.receiver.mobile!) };
      return out;
    },
    async open(sealed) {
      const out = copy(sealed as PeerRecord) as PeerRecord;
      for (const f of FIELDS) f.set(out, await openOne(f.get(sealed as PeerRecord)));
      return out;
    },
    openField: (sealed, f) => openOne(f.get(sealed as PeerRecord)),
    storedToken: (s, field) => (s as PeerRecord).tokens[field],
    queryToken: (_field, value) => token(value),
  };
}

const FACTORIES: Readonly<Record<string, () => Contender>> = {
  'waybill-seal': () => waybillSeal('waybill-seal', 'auto'),
  'waybill-seal (pure JS)': () => waybillSeal('waybill-seal (pure JS)', 'js'),
  // Not one of the issue's rows: the default minus the record integrity tag, to show what the tag costs.
  'waybill-seal (integrity: false)': () => waybillSeal('waybill-seal (integrity: false)', 'auto', false),
  'node:crypto reference': nodeReference,
  'noble reference': nobleReference,
  '@47ng/cloak': cloak,
  'ciphersweet-js': ciphersweet,
  '@aws-crypto/client-node': awsCrypto,
  'mongodb-client-encryption': () => {
    try {
      require('mongodb-client-encryption');
    } catch {
      throw new Unavailable('not installed: its native build downloads libmongocrypt, which this machine cannot (no figures are estimated)');
    }
    throw new Unavailable('installed, but no contender is written for it yet');
  },
};

export class Unavailable extends Error {}

/** A different spelling of the same mobile (what a user types), for the token check. */
const variant = (mobile: string): string => {
  const d = normalizeMobile(mobile);
  return mobile.startsWith('+86') ? d : `+86 ${d.slice(0, 3)}-${d.slice(3, 7)}-${d.slice(7)}`;
};

/** Round trip, single-field decryption and token equivalence on a sample; throws on any mismatch. */
async function verify(c: Contender, records: readonly JobRecord[], sealed: readonly Sealed[]): Promise<void> {
  for (let i = 0; i < Math.min(VERIFY, sealed.length); i++) {
    const r = records[i]!;
    const before = JSON.stringify(r);
    const raw = await c.open(sealed[i]);
    const opened = c.plainOf ? c.plainOf(raw) : (raw as JobRecord);
    for (const f of FIELDS) if (f.get(opened) !== f.get(r)) throw new Error(`${c.name}: ${f.path} did not round-trip`);
    if (JSON.stringify(r) !== before) throw new Error(`${c.name}: seal mutated its input`);
    const one = FIELDS[i % FIELDS.length]!;
    if ((await c.openField(sealed[i], one)) !== one.get(r)) throw new Error(`${c.name}: ${one.path} alone did not decrypt`);
    for (const m of MOBILES) {
      const stored = c.storedToken(sealed[i], m);
      if (stored === undefined || stored !== (await c.queryToken(m, variant(fieldOf(m).get(r))))) throw new Error(`${c.name}: ${m} token does not match its query`);
    }
  }
  // Distinct mobiles give distinct tokens (no constant token passes the check above).
  const a = c.storedToken(sealed[0], 'sender.mobile');
  const b = sealed.slice(1, 20).map((s) => c.storedToken(s, 'sender.mobile'));
  if (b.every((t) => t === a)) throw new Error(`${c.name}: tokens do not depend on the mobile`);
}

export interface PeerSetup {
  readonly unavailable: { name: string; reason: string }[];
  readonly pools: Record<string, number>;
  /** Records generated for the workload (and the largest pool). */
  pool: number;
}

export const peerSetup: PeerSetup = { unavailable: [], pools: {}, pool: POOL };

/** `--quick`: a smaller workload (setup seals every pool once). */
export function configurePeers(o: { pool: number }): void {
  peerSetup.pool = o.pool;
}

/** npm packages compared (for the versions line). */
export const PEER_PACKAGES = ['@47ng/cloak', 'ciphersweet-js', '@aws-crypto/client-node', 'mongodb-client-encryption'] as const;

/** One contender's medians: waybills per second on the primary clock (`seal`, `open`), on each clock, and the GC share. */
export interface PeerResult {
  readonly name: string;
  readonly seal: number | null;
  readonly open: number | null;
  readonly unavailable?: string;
  readonly cpu?: { readonly seal: number; readonly open: number };
  readonly wall?: { readonly seal: number; readonly open: number };
  readonly gcShare?: { readonly seal: number; readonly open: number };
}

/** `{ name, seal, open }` per contender in waybills per second (medians); null when unavailable. */
export function peerResults(results: readonly CaseResult[]): PeerResult[] {
  const of = (name: string, group: string) => results.find((r) => r.section === 'peers' && r.name === name && r.group === group);
  const rate = (ns: number) => Math.round(1e9 / ns);
  return CONTENDERS.map((name) => {
    const u = peerSetup.unavailable.find((x) => x.name === name);
    const seal = of(name, 'seal');
    const open = of(name, 'open');
    if (u || !seal || !open) return { name, seal: null, open: null, unavailable: u?.reason ?? 'not run' };
    return {
      name,
      seal: Math.round(seal.opsPerSec),
      open: Math.round(open.opsPerSec),
      cpu: { seal: rate(seal.cpu.nsPerOp), open: rate(open.cpu.nsPerOp) },
      wall: { seal: rate(seal.wall.nsPerOp), open: rate(open.wall.nsPerOp) },
      gcShare: { seal: Number(seal.gcShare.toFixed(3)), open: Number(open.gcShare.toFixed(3)) },
    };
  });
}

const PEERS = ['@47ng/cloak', 'ciphersweet-js', '@aws-crypto/client-node', 'mongodb-client-encryption'];

/** The issue 16 goals: waybill-seal ÷ the fastest peer (seal, open) and pure JS ÷ the noble reference. */
export const GOALS = { sealVsPeer: 1.2, openVsPeer: 1.0, pureJsVsNoble: 1.0 } as const;

/**
 * The peers table on both clocks (waybills/s, spread, GC share, how many times faster waybill-seal is
 * on CPU time), then the issue's goals on each clock.
 */
export function formatPeers(results: readonly CaseResult[]): string {
  const rows = peerResults(results);
  const ws = rows.find((r) => r.name === 'waybill-seal');
  const js = rows.find((r) => r.name === 'waybill-seal (pure JS)');
  const result = (name: string, group: string) => results.find((r) => r.section === 'peers' && r.name === name && r.group === group);
  const fmt = (n: number | null | undefined) => (n == null ? '' : Math.round(n).toLocaleString('en-US'));
  const pct = (x: number | undefined) => (x === undefined ? '' : `±${(x * 100).toFixed(1)}%`);
  const share = (x: number | undefined) => (x === undefined ? '' : `${(x * 100).toFixed(0)}%`);
  const times = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? '' : `${(a / b).toFixed(2)}×`);
  const table = [['contender', 'seal/s cpu', '±', 'wall', '±', 'GC', 'open/s cpu', '±', 'wall', '±', 'GC', 'ws ÷ it (seal)', '(open)', 'records']];
  for (const r of rows) {
    if (r.seal === null) {
      table.push([r.name, 'unavailable', '', '', '', '', '', '', '', '', '', '', '', r.unavailable ?? '']);
      continue;
    }
    const [s, o] = [result(r.name, 'seal'), result(r.name, 'open')];
    table.push([
      r.name,
      fmt(r.cpu?.seal),
      pct(s?.cpu.spread),
      fmt(r.wall?.seal),
      pct(s?.wall.spread),
      share(s?.gcShare),
      fmt(r.cpu?.open),
      pct(o?.cpu.spread),
      fmt(r.wall?.open),
      pct(o?.wall.spread),
      share(o?.gcShare),
      times(ws?.cpu?.seal, r.cpu?.seal),
      times(ws?.cpu?.open, r.cpu?.open),
      fmt(peerSetup.pools[r.name]),
    ]);
  }
  const last = table[0]!.length - 1;
  const widths = table[0]!.map((_, i) => Math.max(...table.filter((row) => row[1] !== 'unavailable' || i < 2).map((row) => [...(row[i] ?? '')].length)));
  const line = (row: string[]) =>
    row[1] === 'unavailable'
      ? `${row[0]!.padEnd(widths[0]!)}  unavailable: ${row[last]}`
      : row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(table[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)];
  out.push('', 'GC: share of the wall time of the measured batches spent in garbage collection (all rounds together).');
  const peers = rows.filter((r) => PEERS.includes(r.name) && r.seal !== null);
  const ref = (name: string) => rows.find((r) => r.name === name);
  const ratio = (label: string, a: number | undefined, b: number | undefined, target?: number) => {
    if (a === undefined || b === undefined) return `${label}: not measured`;
    const x = a / b;
    return `${label}: ${x.toFixed(2)}×${target === undefined ? '' : ` (goal ≥ ${target.toFixed(1)}×) ${x >= target ? 'met' : 'NOT met'}`}`;
  };
  for (const clock of ['cpu', 'wall'] as const) {
    out.push('', `${clock} time:`);
    for (const op of ['seal', 'open'] as const) {
      const best = peers.reduce<PeerResult | undefined>((b, r) => (b === undefined || (r[clock]?.[op] ?? 0) > (b[clock]?.[op] ?? 0) ? r : b), undefined);
      out.push(ratio(`  ${op}: waybill-seal vs fastest peer (${best?.name ?? 'none'})`, ws?.[clock]?.[op], best?.[clock]?.[op], op === 'seal' ? GOALS.sealVsPeer : GOALS.openVsPeer));
      out.push(ratio(`  ${op}: waybill-seal (pure JS) vs noble reference`, js?.[clock]?.[op], ref('noble reference')?.[clock]?.[op], GOALS.pureJsVsNoble));
      out.push(ratio(`  ${op}: waybill-seal vs node:crypto reference (informational)`, ws?.[clock]?.[op], ref('node:crypto reference')?.[clock]?.[op]));
    }
  }
  return out.join('\n');
}

export const peersSection: Section = {
  name: 'peers',
  description: `waybill workload (${FIELDS.length} protected fields, ${MOBILES.length} mobile tokens) sealed and opened by waybill-seal, the peers and two references; one op = one waybill`,
  rounds: 5,
  baseline: (c) => c.name === 'waybill-seal',
  async setup() {
    peerSetup.unavailable.length = 0;
    const records = workload(peerSetup.pool, 8998);
    const cases: BenchCase[] = [];
    const opens: BenchCase[] = [];
    for (const name of CONTENDERS) {
      let c: Contender;
      try {
        c = FACTORIES[name]!();
      } catch (e) {
        peerSetup.unavailable.push({ name, reason: e instanceof Error ? e.message : String(e) });
        continue;
      }
      const pool = Math.min(c.pool ?? peerSetup.pool, records.length);
      peerSetup.pools[name] = pool;
      const sealed: Sealed[] = [];
      for (let i = 0; i < pool; i++) sealed.push(await c.seal(records[i]!));
      await verify(c, records, sealed);
      let i = 0;
      let j = 0;
      cases.push({ name, group: 'seal', run: () => c.seal(records[i++ % pool]!) });
      opens.push({ name, group: 'open', run: () => c.open(sealed[j++ % pool]) });
    }
    return [...cases, ...opens];
  },
};
