/**
 * Seeded synthetic waybills that look like real ones: valid mobiles, landlines and ID check
 * characters, compound surnames (欧阳), CJK Extension B characters (𠮷), ethnic-minority names with
 * middle dots (阿依古丽·买买提), privacy (virtual) numbers, real place names with unit/room
 * addresses, and international senders and receivers. Not personal data: every value is generated
 * from the seed (a small PRNG, never a key source), so a test gets the same records on every run.
 */
import { ConfigError } from '../errors.js';
import type { PlainRecord } from '../schema/schema.js';
import type { WaybillSchema } from '../schema/waybill.js';

export type SyntheticWaybill = PlainRecord<WaybillSchema>;

export interface SyntheticOptions {
  /** Number of records (0 to 1,000,000). */
  count: number;
  /** PRNG seed (an unsigned 32-bit integer; default 20250301): the same seed gives the same records. */
  seed?: number | undefined;
  /** `cn` (default): mainland senders and receivers; `intl`: both abroad; `mixed`: about a third of the parties abroad. */
  locale?: 'cn' | 'intl' | 'mixed' | undefined;
}

/** mulberry32: a small seeded PRNG, for reproducible test data only (never for keys or nonces). */
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
/** Uyghur, Tibetan, Mongolian and other names as they are written in Chinese, with U+00B7. */
const MINORITY_NAMES = ['阿依古丽·买买提', '买买提·艾力', '热依拉·阿不都', '扎西·次仁', '阿沛·阿旺晋美', '巴特尔·额尔敦', '古丽娜尔·吐尔逊', '迪丽热巴·迪力木拉提'];
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

/** Places abroad: country, region, city, district, postcode, street and the number plans used (# is a digit). */
interface Abroad {
  readonly country: string;
  readonly region: string;
  readonly city: string;
  readonly district: string;
  readonly postcode: string;
  readonly street: string;
  readonly mobile: string;
  readonly landline?: string;
  readonly names: readonly string[];
}
const ABROAD: readonly Abroad[] = [
  { country: 'DE', region: 'Berlin', city: 'Berlin', district: 'Mitte', postcode: '10117', street: 'Friedrichstraße', mobile: '+49 151 ########', landline: '+49 30 ########', names: ['Jürgen Müller', 'Anna Schröder', 'Lukas Weiß'] },
  { country: 'AU', region: 'NSW', city: 'Sydney', district: 'Surry Hills', postcode: '2010', street: 'Crown Street', mobile: '+61 412 ### ###', names: ['Olivia Smith', "Liam O'Connor", 'Chloe Nguyen'] },
  { country: 'KR', region: '서울특별시', city: '서울', district: '강남구', postcode: '06236', street: '테헤란로', mobile: '+82 10-2###-####', names: ['김민준', '이서연', 'Park Ji-hoon'] },
  { country: 'MY', region: 'Selangor', city: 'Petaling Jaya', district: 'Damansara', postcode: '47400', street: 'Jalan SS 21/1', mobile: '+60 12-### ####', names: ['Tan Wei Ming', 'Nur Aisyah binti Ahmad', 'Rajesh Kumar'] },
  { country: 'GB', region: 'England', city: 'London', district: 'Westminster', postcode: 'W1D 3QF', street: 'Dean Street', mobile: '+44 7400 ######', landline: '+44 20 7946 0###', names: ['Siobhán Byrne', 'James Smith', 'Zoë Hughes'] },
  { country: 'US', region: 'NY', city: 'New York', district: 'Manhattan', postcode: '10013', street: 'Mott Street', mobile: '+1 212-555-01##', landline: '+1 212-555-01##', names: ['María García', 'John Doe-Smith', 'Nguyễn Văn An'] },
];

/** `count` seeded synthetic waybills (see the module comment). */
export function syntheticWaybills(options: SyntheticOptions): SyntheticWaybill[] {
  const { count, seed = 20250301, locale = 'cn' } = options ?? ({} as SyntheticOptions);
  if (!Number.isSafeInteger(count) || count < 0 || count > 1_000_000) throw new ConfigError('syntheticWaybills: count must be an integer from 0 to 1000000');
  if (!Number.isSafeInteger(seed)) throw new ConfigError('syntheticWaybills: seed must be an integer');
  if (locale !== 'cn' && locale !== 'intl' && locale !== 'mixed') throw new ConfigError('syntheticWaybills: locale must be cn, intl or mixed');
  const rnd = seededRandom(seed);
  // Minority names and the parties abroad draw from a second stream, so `cn` records of a seed keep
  // the values earlier versions of this generator gave them.
  const extra = seededRandom(seed ^ 0x5bd1e995);
  const pick = <T>(xs: readonly T[], r = rnd): T => xs[Math.floor(r() * xs.length)]!;
  const digits = (n: number, r = rnd) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const fill = (plan: string) => plan.replace(/#/g, () => digits(1, extra));
  const name = () => {
    const han = pick(SURNAMES) + pick(GIVEN) + (rnd() < 0.5 ? pick(GIVEN) : '');
    return extra() < 0.06 ? pick(MINORITY_NAMES, extra) : han;
  };
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
  const abroad = locale === 'intl' ? () => true : locale === 'mixed' ? () => extra() < 0.35 : () => false;
  /** A party abroad replaces the mainland one drawn for the same slot (the main stream stays aligned). */
  const foreign = (party: { name: string; mobile?: string; address: SyntheticWaybill['receiver']['address'] }) => {
    const place = pick(ABROAD, extra);
    party.name = pick(place.names, extra);
    party.mobile = fill(place.mobile);
    party.address = {
      country: place.country,
      province: place.region,
      city: place.city,
      district: place.district,
      detail: `${1 + Math.floor(extra() * 300)} ${place.street}, Apt ${1 + Math.floor(extra() * 40)}${'ABCD'[Math.floor(extra() * 4)]}`,
      postcode: place.postcode,
    };
    return place;
  };
  const start = Date.parse('2025-01-01T00:00:00Z');
  return Array.from({ length: count }, (_, i): SyntheticWaybill => {
    const createdAt = new Date(start + Math.floor(rnd() * 180 * 86_400_000)).toISOString();
    const [area, len] = pick(AREA_CODES);
    const w: SyntheticWaybill = {
      waybillNo: `WS${String(7_700_000_000 + i * 7919).padStart(12, '0')}`,
      orderId: `TB${digits(16)}`,
      createdAt,
      sender: { name: name(), mobile: mobile(), idType: 'resident', idNumber: idNumber(), address: address() },
      receiver: { name: name(), mobile: mobile(), address: address() },
      items: [{ name: pick(ITEMS), quantity: int(1, 3) }],
      weightGrams: int(100, 20_000),
    };
    const landline = rnd() < 0.25 ? `${area}-${int(2, 7)}${int(1, 9)}${digits(len - 2)}` : undefined;
    const virtualNumber = rnd() < 0.3 ? { main: pick(MOBILE_PREFIXES) + digits(8), ext: digits(4) } : undefined;
    if (rnd() < 0.3) w.remark = pick(['放快递柜', '请放门口，勿打电话', '工作日送达', '易碎，轻放']);
    if (abroad()) {
      foreign(w.sender);
      // No mainland resident ID number for senders abroad.
      delete w.sender.idType;
      delete w.sender.idNumber;
    }
    const receiverAbroad = abroad() ? foreign(w.receiver) : undefined;
    const foreignLandline = receiverAbroad?.landline;
    if (landline !== undefined && (!receiverAbroad || foreignLandline)) w.receiver.landline = foreignLandline ? fill(foreignLandline) : landline;
    // Privacy numbers are a mainland platform feature.
    if (virtualNumber !== undefined && !receiverAbroad) w.receiver.virtualNumber = virtualNumber;
    return w;
  });
}
