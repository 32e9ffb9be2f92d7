/**
 * Seeded synthetic waybills that look like real ones (valid mobiles and ID check characters,
 * real place names, unit/room addresses). Not personal data: every value is generated.
 */
import type { PlainRecord, WaybillSchema } from 'waybill-seal';

export type Waybill = PlainRecord<WaybillSchema>;

/** mulberry32: a small seeded PRNG, for reproducible demo data only (never for keys). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '欧阳', '司马', '诸葛'];
const GIVEN = ['伟', '芳', '娜', '秀英', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀兰', '霞', '平', '刚', '桂英', '子涵', '浩然', '𠮷'];
const PLACES: [string, string, string, string][] = [
  ['广东省', '深圳市', '南山区', '518000'],
  ['广东省', '广州市', '天河区', '510000'],
  ['浙江省', '杭州市', '西湖区', '310000'],
  ['上海市', '上海市', '浦东新区', '200120'],
  ['北京市', '北京市', '朝阳区', '100020'],
  ['江苏省', '南京市', '鼓楼区', '210000'],
  ['四川省', '成都市', '武侯区', '610000'],
  ['湖北省', '武汉市', '洪山区', '430070'],
  ['陕西省', '西安市', '雁塔区', '710061'],
  ['福建省', '厦门市', '思明区', '361000'],
];
const STREETS = ['科技园路', '文一西路', '建国路', '中山大道', '人民路', '解放路', '天府大道', '长江路', '环湖北路', '学院路'];
const MOBILE_PREFIXES = ['138', '139', '136', '186', '150', '151', '177', '188', '199', '135'];
const ITEMS = ['书籍', '衣服', '手机壳', '茶叶', '文件', '数码配件', '化妆品', '食品'];
const AREA_CODES = [['0755', 8], ['020', 8], ['0571', 8], ['021', 8], ['010', 8], ['0851', 7]] as const;
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

export function generateWaybills(count: number, seed = 20250301): Waybill[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const name = () => pick(SURNAMES) + pick(GIVEN) + (rnd() < 0.5 ? pick(GIVEN) : '');
  const mobile = () => {
    const m = pick(MOBILE_PREFIXES) + digits(8);
    return rnd() < 0.2 ? `+86 ${m.slice(0, 3)}-${m.slice(3, 7)}-${m.slice(7)}` : m;
  };
  const idNumber = () => {
    const body = `440305${int(1960, 2004)}${String(int(1, 12)).padStart(2, '0')}${String(int(1, 28)).padStart(2, '0')}${digits(3)}`;
    const sum = [...body].reduce((acc, d, i) => acc + Number(d) * ID_WEIGHTS[i]!, 0);
    return body + ID_CHECK[sum % 11];
  };
  const address = () => {
    const [province, city, district, postcode] = pick(PLACES);
    const detail =
      rnd() < 0.7
        ? `${pick(STREETS)}${int(1, 999)}号${int(1, 30)}栋${int(1, 6)}单元${int(1, 32)}${String(int(1, 8)).padStart(2, '0')}室`
        : `${pick(STREETS)}${int(1, 999)}号${int(1, 20)}-${int(1, 6)}-${int(101, 2808)}`;
    return { country: 'CN', province, city, district, detail, postcode };
  };
  const start = Date.parse('2025-01-01T00:00:00Z');
  return Array.from({ length: count }, (_, i): Waybill => {
    const createdAt = new Date(start + Math.floor(rnd() * 180 * 86_400_000)).toISOString();
    const [area, len] = pick(AREA_CODES);
    const w: Waybill = {
      waybillNo: `WS${String(7_700_000_000 + i * 7919).padStart(12, '0')}`,
      orderId: `TB${digits(16)}`,
      createdAt,
      sender: { name: name(), mobile: mobile(), idType: 'resident', idNumber: idNumber(), address: address() },
      receiver: { name: name(), mobile: mobile(), address: address() },
      items: [{ name: pick(ITEMS), quantity: int(1, 3) }],
      weightGrams: int(100, 20_000),
    };
    if (rnd() < 0.25) w.receiver.landline = `${area}-${int(2, 7)}${int(1, 9)}${digits(len - 2)}`;
    if (rnd() < 0.3) w.receiver.virtualNumber = { main: pick(MOBILE_PREFIXES) + digits(8), ext: digits(4) };
    if (rnd() < 0.3) w.remark = pick(['放快递柜', '请放门口，勿打电话', '工作日送达', '易碎，轻放']);
    return w;
  });
}
