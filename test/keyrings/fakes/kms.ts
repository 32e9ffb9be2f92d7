/**
 * A local fake of the AWS KMS API as the AWS SDK for JavaScript v3 speaks it: JSON 1.1 protocol,
 * `POST /` with `X-Amz-Target: TrentService.<Operation>` and `Content-Type:
 * application/x-amz-json-1.1`, blobs as base64 strings, errors as HTTP 400/500 with
 * `{"__type": "<ExceptionName>", "message": …}` (https://docs.aws.amazon.com/kms/latest/APIReference/).
 * Operations: CreateKey, DescribeKey, CreateAlias, UpdateAlias, DisableKey, EnableKey, Encrypt,
 * Decrypt, GenerateDataKey, ReEncrypt. The ciphertext blob is opaque (key id ‖ AES-256-GCM), with
 * the encryption context bound as associated data, as KMS does. Not AWS: no real KMS ran here.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { startFake, type FakeReply, type FakeRequest, type FakeServer } from './http.js';

const REGION = 'us-east-1';
const ACCOUNT = '111122223333';

interface Key {
  id: string;
  arn: string;
  material: Buffer;
  enabled: boolean;
  created: number;
}

export interface FakeKms extends FakeServer {
  readonly region: string;
  /** Creates a key (and optionally an alias); returns its ARN. */
  createKey(alias?: string): string;
  /** Points an alias at another key. */
  updateAlias(alias: string, arn: string): void;
  /** Fail the next `n` requests with this exception (e.g. ThrottlingException/400, KMSInternalException/500). */
  failNext(n: number, type: string, status: number): void;
  /** Requests per operation. */
  count(op: string): number;
  /** Parsed request bodies per operation, for checking what the SDK sent. */
  bodies(op: string): Record<string, unknown>[];
}

export async function startFakeKms(): Promise<FakeKms> {
  const keys = new Map<string, Key>();
  const aliases = new Map<string, string>();
  const ops = new Map<string, Record<string, unknown>[]>();
  let failures = { n: 0, type: 'ThrottlingException', status: 400 };

  const err = (type: string, message: string, status = 400): FakeReply => ({
    status,
    body: { __type: type, message },
    headers: { 'x-amzn-ErrorType': type, 'x-amzn-RequestId': randomUUID() },
  });

  const createKey = (alias?: string): Key => {
    const id = randomUUID();
    const k = { id, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`, material: randomBytes(32), enabled: true, created: Date.now() / 1000 };
    keys.set(id, k);
    if (alias) aliases.set(alias, id);
    return k;
  };

  const resolve = (keyId: unknown): Key | FakeReply => {
    if (typeof keyId !== 'string' || keyId === '') return err('ValidationException', 'KeyId is required');
    let id = keyId;
    const aliasArn = /^arn:aws:kms:[^:]+:\d+:(alias\/.+)$/.exec(keyId);
    const keyArn = /^arn:aws:kms:[^:]+:\d+:key\/(.+)$/.exec(keyId);
    if (aliasArn) id = aliases.get(aliasArn[1]!) ?? '';
    else if (keyId.startsWith('alias/')) id = aliases.get(keyId) ?? '';
    else if (keyArn) id = keyArn[1]!;
    const k = keys.get(id);
    return k ?? err('NotFoundException', `Key '${keyId}' does not exist`);
  };

  const usable = (k: Key): FakeReply | undefined => (k.enabled ? undefined : err('DisabledException', `${k.arn} is disabled.`));

  const contextAad = (ctx: unknown): Buffer => {
    const obj = (ctx ?? {}) as Record<string, string>;
    return Buffer.from(JSON.stringify(Object.keys(obj).sort().map((k) => [k, obj[k]])));
  };

  const encrypt = (k: Key, plaintext: Buffer, ctx: unknown): Buffer => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', k.material, iv);
    c.setAAD(contextAad(ctx));
    const ct = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
    return Buffer.concat([Buffer.from([1]), Buffer.from(k.id, 'ascii'), iv, ct]);
  };

  const decrypt = (blob: unknown, ctx: unknown, keyId: unknown): { key: Key; plaintext: Buffer } | FakeReply => {
    const raw = typeof blob === 'string' ? Buffer.from(blob, 'base64') : Buffer.alloc(0);
    if (raw.length < 1 + 36 + 12 + 16 || raw[0] !== 1) return err('InvalidCiphertextException', '');
    const k = keys.get(raw.subarray(1, 37).toString('ascii'));
    if (!k) return err('InvalidCiphertextException', '');
    if (keyId !== undefined) {
      const want = resolve(keyId);
      if (!('arn' in want)) return want;
      if (want.id !== k.id) return err('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
    const bad = usable(k);
    if (bad) return bad;
    try {
      const d = createDecipheriv('aes-256-gcm', k.material, raw.subarray(37, 49));
      d.setAAD(contextAad(ctx));
      d.setAuthTag(raw.subarray(raw.length - 16));
      return { key: k, plaintext: Buffer.concat([d.update(raw.subarray(49, raw.length - 16)), d.final()]) };
    } catch {
      return err('InvalidCiphertextException', '');
    }
  };

  const metadata = (k: Key) => ({
    AWSAccountId: ACCOUNT,
    KeyId: k.id,
    Arn: k.arn,
    CreationDate: k.created,
    Enabled: k.enabled,
    KeyState: k.enabled ? 'Enabled' : 'Disabled',
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    MultiRegion: false,
    Description: '',
  });

  const handle = (r: FakeRequest): FakeReply => {
    if (r.method !== 'POST' || r.path !== '/') return err('UnknownOperationException', '', 404);
    const target = String(r.headers['x-amz-target'] ?? '');
    if (!target.startsWith('TrentService.')) return err('UnknownOperationException', '', 400);
    if (!String(r.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) return err('SerializationException', 'wrong content type');
    if (!String(r.headers['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256 ')) return err('MissingAuthenticationTokenException', 'unsigned');
    const op = target.slice('TrentService.'.length);
    let body: Record<string, unknown>;
    try {
      body = r.body ? JSON.parse(r.body) : {};
    } catch {
      return err('SerializationException', 'bad JSON');
    }
    ops.set(op, [...(ops.get(op) ?? []), body]);
    if (failures.n > 0) {
      failures.n--;
      return err(failures.type, 'Rate exceeded', failures.status);
    }
    switch (op) {
      case 'CreateKey':
        return { status: 200, body: { KeyMetadata: metadata(createKey()) } };
      case 'DescribeKey': {
        const k = resolve(body['KeyId']);
        return 'arn' in k ? { status: 200, body: { KeyMetadata: metadata(k) } } : k;
      }
      case 'CreateAlias':
      case 'UpdateAlias': {
        const k = resolve(body['TargetKeyId']);
        if (!('arn' in k)) return k;
        const name = String(body['AliasName']);
        if (op === 'CreateAlias' && aliases.has(name)) return err('AlreadyExistsException', `An alias with the name ${name} already exists`);
        if (op === 'UpdateAlias' && !aliases.has(name)) return err('NotFoundException', `Alias ${name} is not found.`);
        aliases.set(name, k.id);
        return { status: 200, body: {} };
      }
      case 'DisableKey':
      case 'EnableKey': {
        const k = resolve(body['KeyId']);
        if (!('arn' in k)) return k;
        k.enabled = op === 'EnableKey';
        return { status: 200, body: {} };
      }
      case 'Encrypt': {
        const k = resolve(body['KeyId']);
        if (!('arn' in k)) return k;
        const bad = usable(k);
        if (bad) return bad;
        const pt = Buffer.from(String(body['Plaintext'] ?? ''), 'base64');
        if (pt.length < 1 || pt.length > 4096) return err('ValidationException', 'Plaintext must be 1 to 4096 bytes');
        return { status: 200, body: { CiphertextBlob: encrypt(k, pt, body['EncryptionContext']).toString('base64'), KeyId: k.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } };
      }
      case 'GenerateDataKey': {
        const k = resolve(body['KeyId']);
        if (!('arn' in k)) return k;
        const bad = usable(k);
        if (bad) return bad;
        const n = body['NumberOfBytes'] ?? (body['KeySpec'] === 'AES_128' ? 16 : body['KeySpec'] === 'AES_256' ? 32 : undefined);
        if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 1024) return err('ValidationException', 'NumberOfBytes or KeySpec is required');
        const pt = randomBytes(n as number);
        return {
          status: 200,
          body: { CiphertextBlob: encrypt(k, pt, body['EncryptionContext']).toString('base64'), Plaintext: pt.toString('base64'), KeyId: k.arn },
        };
      }
      case 'Decrypt': {
        const d = decrypt(body['CiphertextBlob'], body['EncryptionContext'], body['KeyId']);
        if (!('plaintext' in d)) return d;
        return { status: 200, body: { KeyId: d.key.arn, Plaintext: d.plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } };
      }
      case 'ReEncrypt': {
        const d = decrypt(body['CiphertextBlob'], body['SourceEncryptionContext'], body['SourceKeyId']);
        if (!('plaintext' in d)) return d;
        const dest = resolve(body['DestinationKeyId']);
        if (!('arn' in dest)) return dest;
        const bad = usable(dest);
        if (bad) return bad;
        return {
          status: 200,
          body: {
            CiphertextBlob: encrypt(dest, d.plaintext, body['DestinationEncryptionContext']).toString('base64'),
            SourceKeyId: d.key.arn,
            KeyId: dest.arn,
            SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
            DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          },
        };
      }
      default:
        return err('UnsupportedOperationException', `${op} is not implemented by this fake`);
    }
  };

  const server = await startFake(handle);
  return {
    ...server,
    region: REGION,
    createKey: (alias) => createKey(alias).arn,
    updateAlias(alias, arn) {
      const k = resolve(arn);
      if (!('arn' in k)) throw new Error('no such key');
      aliases.set(alias, k.id);
    },
    failNext(n, type, status) {
      failures = { n, type, status };
    },
    count: (op) => ops.get(op)?.length ?? 0,
    bodies: (op) => ops.get(op) ?? [],
  };
}
