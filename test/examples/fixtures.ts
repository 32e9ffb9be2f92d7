/** Fixtures shared by the example tests: numbered synthetic waybills and the headless Chromium flags. */
import type { PlainRecord, WaybillSchema } from 'waybill-seal';

/** A waybill with numbered, distinctive values (synthetic): `<prefix>000000000n`, mobiles ending in n. */
export function numberedWaybill(n: number, prefix = 'WB', overrides: Partial<PlainRecord<WaybillSchema>> = {}): PlainRecord<WaybillSchema> {
  const tail = String(n).padStart(4, '0');
  return {
    waybillNo: `${prefix}${String(n).padStart(10, '0')}`,
    createdAt: '2025-03-01T08:30:00+08:00',
    sender: {
      name: '张三丰',
      mobile: `1381234${tail}`,
      idType: 'resident',
      idNumber: '11010519491231002X',
      address: { province: '广东省', city: '深圳市', district: '南山区', detail: `科技园路1号3栋2单元50${n % 10}室` },
    },
    receiver: {
      name: '欧阳娜娜',
      mobile: `1398765${tail}`,
      address: { province: '浙江省', city: '杭州市', district: '西湖区', detail: `文一西路969号5-2-30${n % 10}` },
    },
    items: [{ name: '书籍', quantity: 2 }],
    weightGrams: 1200,
    remark: '请放门口，勿打电话',
    routing: { originOutlet: 'SZ-NS-001', destOutlet: 'HZ-012', routeId: 'HZ-012-R3' },
    ...overrides,
  };
}

/** Headless Chromium without network beyond the page and without first-run work (plus --headless and a fresh profile). */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;
