import { readFileSync } from 'node:fs';
import { createSealer, LocalKeyring, MemoryKeyStore, generateLocalKeyMaterial, type Keyring, type KeyStore, type SealerOptions } from '../src/index.js';
import { contextOf } from '../src/keys/data-keys.js';

export const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function loadVectors<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/** A sealer over fresh in-memory keys; it opens without a policy (`guard: 'allow-all'`) unless told otherwise. */
export function freshSealer(options: Partial<SealerOptions> = {}) {
  const material = generateLocalKeyMaterial();
  const keyring = new LocalKeyring(material);
  const keyStore = new MemoryKeyStore();
  const sealer = createSealer({ keyring, keyStore, guard: 'allow-all', ...options });
  return { sealer, keyring, keyStore, material };
}

export const sampleWaybill = () => ({
  waybillNo: 'SF1234567890123',
  orderId: 'TB2025030100001',
  createdAt: '2025-03-01T08:30:00+08:00',
  sender: {
    name: '张三',
    mobile: '13812345678',
    idType: 'resident',
    idNumber: '11010519491231002X',
    address: { province: '广东省', city: '深圳市', district: '南山区', detail: '科技园路1号3栋2单元501室' },
  },
  receiver: {
    name: '欧阳娜娜',
    mobile: '+86 139-8765-4321',
    virtualNumber: { main: '13800138000', ext: '1234' },
    address: { province: '浙江省', city: '杭州市', district: '西湖区', town: '文新街道', detail: '文一西路969号5-2-301' },
  },
  items: [{ name: '书籍', quantity: 2 }],
  weightGrams: 1200,
  remark: '请放门口，勿打电话',
});

/** A search request for tests on `guard: 'allow-all'` sealers (a search is an access: it names a principal). */
export const SEARCH = { principal: 'test:search' } as const;

/** The index key (token root) of a key class's month, unwrapped from the key store row `<class>-index/<scope>/<generation>`. */
export async function indexKeyOf(keyring: Keyring, keyStore: KeyStore, keyClass: string, scope: string, generation = 1): Promise<Uint8Array> {
  const row = await keyStore.get(`${keyClass}-index/${scope}/${generation}`);
  if (row === undefined) throw new Error(`no index key ${keyClass}-index/${scope}/${generation}`);
  return keyring.unwrap({ kekId: row.kekId, wrapped: row.wrapped }, contextOf(row));
}
