/**
 * A local fake of the Vault Transit secrets engine HTTP API, following the documented request and
 * response shapes (https://developer.hashicorp.com/vault/api-docs/secret/transit):
 *   POST/GET /v1/<mount>/keys/:name, POST …/keys/:name/rotate, POST …/keys/:name/config,
 *   POST /v1/<mount>/encrypt/:name, /decrypt/:name, /rewrap/:name
 * with `X-Vault-Token` auth (403 `{"errors":["permission denied"]}`), `X-Vault-Namespace`,
 * `vault:v<N>:<base64>` ciphertexts, derived keys (context required), min_decryption_version, and
 * error bodies `{"errors":[…]}`. Crypto: AES-256-GCM with a per-context key (HMAC-SHA256 of the
 * version key and the context), so a wrong context fails like Vault's "message authentication failed".
 * Not Vault: no real Vault can run on this machine (see README).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { startFake, type FakeReply, type FakeRequest, type FakeServer } from './http.js';

interface TransitKey {
  derived: boolean;
  versions: Buffer[];
  minDecryption: number;
  created: number[];
}

export interface FakeVaultOptions {
  token?: string;
  namespace?: string;
  mount?: string;
}

export interface FakeVault extends FakeServer {
  readonly token: string;
  readonly keys: Map<string, TransitKey>;
  /** Fail the next `n` requests with `status` (500, 503, 429 …), before auth. */
  failNext(n: number, status: number, retryAfter?: string): void;
  /** Requests per operation (`encrypt`, `decrypt`, `rewrap`, `keys` …), for call counts. */
  count(op: string): number;
}

export async function startFakeVault(o: FakeVaultOptions = {}): Promise<FakeVault> {
  const token = o.token ?? 'hvs.test-token';
  const mount = o.mount ?? 'transit';
  const keys = new Map<string, TransitKey>();
  let failures: { n: number; status: number; retryAfter: string | undefined } = { n: 0, status: 500, retryAfter: undefined };
  const ops = new Map<string, number>();

  const err = (status: number, ...errors: string[]): FakeReply => ({ status, body: { errors } });
  const ok = (data: unknown): FakeReply => ({ status: 200, body: { request_id: randomBytes(8).toString('hex'), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null } });

  const keyInfo = (name: string, k: TransitKey) => ({
    name,
    type: 'aes256-gcm96',
    derived: k.derived,
    kdf: k.derived ? 'hkdf_sha256' : undefined,
    exportable: false,
    deletion_allowed: false,
    supports_encryption: true,
    supports_decryption: true,
    supports_derivation: true,
    latest_version: k.versions.length,
    min_available_version: 0,
    min_decryption_version: k.minDecryption,
    min_encryption_version: 0,
    keys: Object.fromEntries(k.created.map((t, i) => [String(i + 1), t])),
  });

  const subkey = (k: TransitKey, version: number, context: string | undefined): Buffer | FakeReply => {
    if (!k.derived) return k.versions[version - 1]!;
    if (!context) {
      return err(400, "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key");
    }
    return createHmac('sha256', k.versions[version - 1]!).update(Buffer.from(context, 'base64')).digest();
  };

  const seal = (k: TransitKey, version: number, context: string | undefined, plaintext: Buffer): string | FakeReply => {
    const key = subkey(k, version, context);
    if (!Buffer.isBuffer(key)) return key;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
    return `vault:v${version}:${Buffer.concat([iv, ct]).toString('base64')}`;
  };

  const open = (k: TransitKey, ciphertext: unknown, context: string | undefined): Buffer | FakeReply => {
    if (typeof ciphertext !== 'string' || !ciphertext.startsWith('vault:')) return err(400, 'invalid ciphertext: no prefix');
    const m = /^vault:v(\d+):(.*)$/.exec(ciphertext);
    if (!m) return err(400, 'invalid ciphertext: wrong number of fields');
    const version = Number(m[1]);
    if (version < 1 || version > k.versions.length) return err(400, 'invalid key version');
    if (version < k.minDecryption) return err(400, 'ciphertext or signature version is disallowed by policy (too old)');
    const key = subkey(k, version, context);
    if (!Buffer.isBuffer(key)) return key;
    const raw = Buffer.from(m[2]!, 'base64');
    if (raw.length < 28) return err(400, 'invalid ciphertext: could not decode');
    try {
      const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
    } catch {
      return err(400, 'cipher: message authentication failed');
    }
  };

  const handle = (r: FakeRequest): FakeReply => {
    if (failures.n > 0) {
      failures.n--;
      return { ...err(failures.status, failures.status === 429 ? 'request path "…": rate limit quota exceeded' : 'local node not active but active cluster node not found'), ...(failures.retryAfter ? { headers: { 'Retry-After': failures.retryAfter } } : {}) };
    }
    if (r.headers['x-vault-token'] !== token) return err(403, 'permission denied');
    if ((r.headers['x-vault-namespace'] ?? undefined) !== o.namespace) return err(403, 'permission denied');
    const prefix = `/v1/${mount}/`;
    if (!r.path.startsWith(prefix)) return err(404, `no handler for route "${r.path.slice(4)}". route entry not found.`);
    const parts = r.path.slice(prefix.length).split('/');
    const [op, name, sub] = parts as [string, string | undefined, string | undefined];
    ops.set(op === 'keys' && sub ? `keys/${sub}` : op, (ops.get(op === 'keys' && sub ? `keys/${sub}` : op) ?? 0) + 1);
    let body: Record<string, unknown> = {};
    if (r.body) {
      try {
        body = JSON.parse(r.body);
      } catch {
        return err(400, 'failed to parse JSON input');
      }
    }
    if (!name) return err(404, 'unsupported path');
    const k = keys.get(name);
    if (op === 'keys') {
      if (r.method === 'GET' && !sub) return k ? ok(keyInfo(name, k)) : { status: 404, body: { errors: [] } };
      if (r.method === 'POST' && !sub) {
        if (!k) keys.set(name, { derived: body['derived'] === true, versions: [randomBytes(32)], minDecryption: 1, created: [Math.floor(Date.now() / 1000)] });
        return ok(keyInfo(name, keys.get(name)!));
      }
      if (!k) return err(400, 'key not found');
      if (r.method === 'POST' && sub === 'rotate') {
        k.versions.push(randomBytes(32));
        k.created.push(Math.floor(Date.now() / 1000));
        return ok(keyInfo(name, k));
      }
      if (r.method === 'POST' && sub === 'config') {
        const v = body['min_decryption_version'];
        if (v !== undefined) {
          if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > k.versions.length) return err(400, 'invalid min_decryption_version');
          k.minDecryption = v as number;
        }
        return ok(keyInfo(name, k));
      }
      return err(405, 'unsupported operation');
    }
    if (r.method !== 'POST') return err(405, 'unsupported operation');
    const context = typeof body['context'] === 'string' ? body['context'] : undefined;
    if (op === 'encrypt') {
      // Upsert, as documented: encrypting to a missing key creates it (derived if a context is given).
      let key = k;
      if (!key) {
        key = { derived: context !== undefined, versions: [randomBytes(32)], minDecryption: 1, created: [Math.floor(Date.now() / 1000)] };
        keys.set(name, key);
      }
      if (typeof body['plaintext'] !== 'string') return err(400, 'missing plaintext to encrypt');
      const ct = seal(key, key.versions.length, context, Buffer.from(body['plaintext'], 'base64'));
      return typeof ct === 'string' ? ok({ ciphertext: ct, key_version: key.versions.length }) : ct;
    }
    if (!k) return err(400, 'encryption key not found');
    if (op === 'decrypt') {
      const pt = open(k, body['ciphertext'], context);
      return Buffer.isBuffer(pt) ? ok({ plaintext: pt.toString('base64') }) : pt;
    }
    if (op === 'rewrap') {
      const pt = open(k, body['ciphertext'], context);
      if (!Buffer.isBuffer(pt)) return pt;
      const ct = seal(k, k.versions.length, context, pt);
      return typeof ct === 'string' ? ok({ ciphertext: ct, key_version: k.versions.length }) : ct;
    }
    return err(404, 'unsupported path');
  };

  const server = await startFake(handle);
  return {
    ...server,
    token,
    keys,
    failNext(n, status, retryAfter) {
      failures = { n, status, retryAfter };
    },
    count: (op) => ops.get(op) ?? 0,
  };
}
