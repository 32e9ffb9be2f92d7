/**
 * A 100 × 150 mm thermal e-waybill label as SVG, in the areas of GB/T 41833-2022 (code area,
 * destination area, recipient area, sender area, contents area, signature area), drawn from the
 * masked `label` view only: its input type has no plaintext, and no key is needed to print.
 *
 * The SVG uses millimetres as user units (viewBox 0 0 100 150, width 100mm, height 150mm), so a
 * printer driver or a browser prints it at its true size. The barcode is Code 128 from bwip-js
 * (its generic entry: no Node built-ins, so this file also runs in browsers and edge runtimes).
 */
import { toSVG } from 'bwip-js/generic';
import type { MaskedRecord, WaybillSchema } from 'waybill-seal';

/** The masked label view: `mask(waybill, sealed, 'label')`. Protected fields are mask strings. */
export type LabelView = MaskedRecord<WaybillSchema>;

export interface LabelOptions {
  /**
   * The route (sort) code printed big in the destination area. Carriers take it from their routing
   * service; without it the label uses `routing.routeId` when the record has one, else a stand-in
   * derived from the plain destination fields (see `routeCodeOf`).
   */
  routeCode?: string;
  /** Header text: the carrier or shop name. */
  carrier?: string;
  /** Printer resolution: the barcode's narrowest bar is a whole number of printer dots. Default 203. */
  dpi?: number;
  /** CSS font-family list; the default names CJK fonts shipped by Debian, macOS and Windows. */
  fontFamily?: string;
}

export const LABEL_WIDTH_MM = 100;
export const LABEL_HEIGHT_MM = 150;

export const DEFAULT_FONT_FAMILY =
  "'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Zen Hei', 'PingFang SC', 'Microsoft YaHei', sans-serif";
const MONO_FONT_FAMILY =
  "'Noto Sans Mono CJK SC', 'DejaVu Sans Mono', 'Liberation Mono', 'Menlo', 'Consolas', monospace";

const W = LABEL_WIDTH_MM;
const H = LABEL_HEIGHT_MM;
const EDGE = 2; // frame inset
const TAG = 9; // width of the 收 / 寄 tag column
const BODY_X = EDGE + TAG + 2.5; // left edge of text in the tagged areas
const BODY_W = W - EDGE - 2.5 - BODY_X;

/** Renders the label. Throws a TypeError (naming the field, never its value) when `view` is not a label mask view. */
export function renderLabelSvg(view: LabelView, options: LabelOptions = {}): string {
  assertLabelView(view);
  const font = options.fontFamily ?? DEFAULT_FONT_FAMILY;
  const r = view.receiver;
  const s = view.sender;
  const out: string[] = [];
  const add = (...parts: string[]) => out.push(...parts);

  // Frame and area rules.
  add(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  add(`<rect x="${EDGE}" y="${EDGE}" width="${W - 2 * EDGE}" height="${H - 2 * EDGE}" fill="none" stroke="#000" stroke-width="0.5"/>`);
  const rule = (y: number, weight = 0.4) =>
    add(`<line x1="${EDGE}" y1="${y}" x2="${W - EDGE}" y2="${y}" stroke="#000" stroke-width="${weight}"/>`);

  // Header: carrier, privacy-waybill badge.
  add(text(EDGE + 3, 8, options.carrier ?? 'waybill-seal 示例快递', 3.6, { weight: 700, maxWidth: 60 }));
  add(`<rect x="${W - EDGE - 22}" y="${EDGE + 1.5}" width="20" height="6" rx="1" fill="#000"/>`);
  add(text(W - EDGE - 12, 8, '隐私面单', 3.4, { anchor: 'middle', weight: 700, fill: '#fff' }));
  rule(11, 0.3);

  // Code area: Code 128 of the waybill number, the number in text below.
  add(`<g id="code-area">`);
  add(barcode(view.waybillNo, { top: 13, height: 16, maxWidth: W - 2 * EDGE - 8, dpi: options.dpi ?? 203 }));
  add(
    text(W / 2, 35, view.waybillNo, 4.6, {
      anchor: 'middle',
      weight: 700,
      family: MONO_FONT_FAMILY,
      spacing: 0.5,
      maxWidth: W - 2 * EDGE - 6,
      id: 'waybill-no',
    }),
  );
  add(`</g>`);
  rule(38, 0.6);

  // Destination area: the route code big (sorting staff read it at arm's length), then the district.
  const route = routeCodeOf(view, options.routeCode);
  add(`<g id="destination-area">`);
  add(text(EDGE + 3, 50, route, 10, { weight: 700, maxWidth: 54, family: MONO_FONT_FAMILY, id: 'route-code' }));
  add(text(W - EDGE - 3, 49.5, r.address.district, 6.5, { anchor: 'end', weight: 700, maxWidth: 34 }));
  const city = r.address.city === r.address.province ? undefined : r.address.city; // 上海市 上海市 → 上海市
  add(text(EDGE + 3, 56, join(r.address.province, city, r.address.district, r.address.town), 3.6, { maxWidth: W - 2 * EDGE - 6 }));
  add(`</g>`);
  rule(59, 0.6);

  // Recipient area.
  add(`<g id="recipient-area">`);
  add(tag(59, 92, '收'));
  add(text(BODY_X, 66.5, r.name, 6, { weight: 700, maxWidth: BODY_W, id: 'recipient-name' }));
  const rPhone = phoneOf(r);
  if (rPhone) {
    add(text(BODY_X, 74, rPhone.text, 5.2, { weight: 700, maxWidth: rPhone.virtual ? BODY_W - 14 : BODY_W, id: 'recipient-phone' }));
    if (rPhone.virtual) add(badge(W - EDGE - 2.5, 74, '虚拟号'));
  }
  wrap(addressLine(r.address), 3.9, BODY_W, 3).forEach((line, i) => add(text(BODY_X, 80.5 + i * 4.9, line, 3.9, { cls: 'address' })));
  add(`</g>`);
  rule(92, 0.4);

  // Sender area.
  add(`<g id="sender-area">`);
  add(tag(92, 114, '寄'));
  const sPhone = phoneOf(s);
  const sNameW = Math.min(30, emWidth(s.name) * 4.4);
  add(text(BODY_X, 98.5, s.name, 4.4, { weight: 700, maxWidth: 30, id: 'sender-name' }));
  if (sPhone) {
    const x = BODY_X + sNameW + 5;
    add(text(x, 98.5, sPhone.text + (sPhone.virtual ? '（虚拟号）' : ''), 4.4, { maxWidth: BODY_X + BODY_W - x, id: 'sender-phone' }));
  }
  wrap(addressLine(s.address), 3.4, BODY_W, 2).forEach((line, i) => add(text(BODY_X, 104.5 + i * 4.4, line, 3.4, { cls: 'address' })));
  add(`</g>`);
  rule(114, 0.4);

  // Contents area: items, count, weight, date. Plain fields.
  const pieces = view.items.reduce((n, i) => n + (Number.isFinite(i.quantity) ? i.quantity : 0), 0);
  add(`<g id="contents-area">`);
  add(text(EDGE + 3, 119.5, '内容品名', 2.8, { weight: 700 }));
  add(text(EDGE + 17, 119.5, itemsLine(view.items, 3.6, W - 2 * EDGE - 20), 3.6, { maxWidth: W - 2 * EDGE - 20, id: 'items' }));
  // SVG collapses runs of spaces: each field is its own text element.
  add(text(EDGE + 3, 125.5, `件数 ${pieces}`, 3.4, { maxWidth: 20 }));
  add(text(EDGE + 25, 125.5, `重量 ${formatWeight(view.weightGrams)}`, 3.4, { maxWidth: 30 }));
  add(text(EDGE + 58, 125.5, `寄件日期 ${chinaDate(view.createdAt)}`, 3.4, { maxWidth: W - 2 * EDGE - 61 }));
  add(`</g>`);
  rule(128, 0.6);

  // Signature area.
  add(`<g id="signature-area">`);
  add(text(EDGE + 3, 134.5, '签收人', 3.4, { weight: 700 }));
  add(`<line x1="${EDGE + 15}" y1="135.2" x2="${EDGE + 56}" y2="135.2" stroke="#000" stroke-width="0.25"/>`);
  add(text(EDGE + 3, 141.5, '签收时间', 3.4, { weight: 700 }));
  ['年', '月', '日', '时'].forEach((unit, i) => add(text(EDGE + 28 + i * 9, 141.5, unit, 3.4)));
  add(`<rect x="${W - EDGE - 30}" y="130" width="27" height="13.5" fill="none" stroke="#000" stroke-width="0.25" stroke-dasharray="1 0.8"/>`);
  add(text(W - EDGE - 16.5, 138, '签收章', 2.8, { anchor: 'middle', fill: '#666' }));
  add(
    text(EDGE + 3, 146.6, '隐私面单：姓名、电话、单元户室号已按 GB/T 41833-2022 隐藏，完整信息仅限快递企业授权设备读取', 2.1, {
      fill: '#333',
      maxWidth: W - 2 * EDGE - 6,
    }),
  );
  add(`</g>`);

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}mm" height="${H}mm" viewBox="0 0 ${W} ${H}">`,
    `<title>${esc(`运单 ${view.waybillNo}`)}</title>`,
    `<g font-family="${esc(font)}" fill="#000">`,
    ...out,
    `</g>`,
    `</svg>`,
    '',
  ].join('\n');
}

/**
 * The route code: `options.routeCode`, else `routing.routeId` when the record carries one, else a
 * stand-in built from the plain destination fields: the first three postcode digits (the postal
 * sorting region) and a three-digit sort number hashed from province, city, district and town.
 * The stand-in is deterministic but is not a real carrier's sort plan.
 */
export function routeCodeOf(view: LabelView, override?: string): string {
  if (override !== undefined && override.trim() !== '') return override.trim();
  const routing: unknown = (view as { routing?: unknown }).routing;
  if (typeof routing === 'object' && routing !== null) {
    const id: unknown = (routing as { routeId?: unknown }).routeId;
    if (typeof id === 'string' && id.trim() !== '') return id.trim();
  }
  const a = view.receiver.address;
  const region = /^\d{6}$/.test(a.postcode ?? '') ? a.postcode!.slice(0, 3) : String(fnv1a(`${a.province}|${a.city}`) % 1000).padStart(3, '0');
  const sort = String(fnv1a(`${a.province}|${a.city}|${a.district}|${a.town ?? ''}`) % 1000).padStart(3, '0');
  return `${region}-${sort}`;
}

/** Escapes text for XML and drops what XML 1.0 cannot carry (control characters, lone surrogates) and bidi overrides. */
export function esc(value: string): string {
  return String(value)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/[\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[\t\n\r]/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

// ---------------------------------------------------------------------------------------------

/**
 * Defence in depth, for what the type cannot see: a cast plain record (the masked and plain waybill
 * types differ only in the virtual number), and the `screen` view, whose type is the same as the
 * label view's. Every GB/T 41833 label mask of a name or address detail contains a star, and a
 * label phone mask hides at least 6 digits, or all of them when fewer remain.
 */
function assertLabelView(view: LabelView): void {
  const fail = (path: string): never => {
    throw new TypeError(`renderLabelSvg needs the label mask view (mask(waybill, sealed, 'label')): ${path} is not a label mask`);
  };
  const masked = (v: unknown) => typeof v === 'string' && v.includes('*');
  if (typeof view !== 'object' || view === null) fail('record');
  for (const side of ['receiver', 'sender'] as const) {
    const p = view[side] as Record<string, unknown> & { address?: Record<string, unknown> };
    if (typeof p !== 'object' || p === null) fail(side);
    if (!masked(p['name'])) fail(`${side}.name`);
    for (const f of ['mobile', 'landline'] as const) if (p[f] !== undefined && !labelPhone(p[f])) fail(`${side}.${f}`);
    // A virtual ("privacy") number is printed in full by design, but only as the mask string.
    if (p['virtualNumber'] !== undefined && typeof p['virtualNumber'] !== 'string') fail(`${side}.virtualNumber`);
    if (typeof p.address !== 'object' || p.address === null || !masked(p.address['detail'])) fail(`${side}.address.detail`);
  }
}

/**
 * A label phone mask: at least 6 stars, or stars and no digit left after the country or area code
 * (short numbers are starred whole). Without stars only a service number (400, 95xxx: not personal
 * data) is a label mask; what looks like a mainland mobile is refused.
 */
function labelPhone(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const stars = v.split('*').length - 1;
  if (stars >= 6) return true;
  const number = v.replace(/转\d+$/, '');
  if (stars > 0) return !/\d/.test(number.replace(/^(?:\+\d{1,3} |0\d{2,3}-)/, ''));
  return !/^1[3-9]\d{9}$/.test(number.replace(/\D/g, '').replace(/^86(?=\d{11}$)/, ''));
}

/** A virtual number is what GB/T 41833 recommends printing; otherwise the mobile mask, then the landline mask. */
function phoneOf(p: { mobile?: string; landline?: string; virtualNumber?: string }): { text: string; virtual: boolean } | undefined {
  if (p.virtualNumber) return { text: p.virtualNumber, virtual: true };
  const t = p.mobile ?? p.landline;
  return t ? { text: t, virtual: false } : undefined;
}

const join = (...parts: (string | undefined)[]) => parts.filter((p) => p !== undefined && p !== '').join(' ');

function addressLine(a: { province: string; city: string; district: string; town?: string; detail: string }): string {
  // Municipalities repeat the province as the city (上海市上海市): print it once.
  const city = a.city === a.province ? '' : a.city;
  return `${a.province}${city}${a.district}${a.town ?? ''}${a.detail}`;
}

/** As many `name×quantity` as fit, then `等N种` for the rest (a single long name is squeezed by the caller). */
function itemsLine(items: readonly { name: string; quantity: number }[], size: number, maxWidth: number): string {
  const parts = items.map((i) => `${i.name}×${i.quantity}`);
  if (parts.length === 0) return '—';
  const all = parts.join('、');
  if (emWidth(all) * size <= maxWidth) return all;
  for (let n = parts.length - 1; n >= 1; n--) {
    const line = `${parts.slice(0, n).join('、')} 等${parts.length}种`;
    if (emWidth(line) * size <= maxWidth) return line;
  }
  return parts.length > 1 ? `${parts[0]} 等${parts.length}种` : all;
}

function formatWeight(grams: number): string {
  return Number.isFinite(grams) ? `${(grams / 1000).toFixed(2)} kg` : '—';
}

/** The calendar date in China (UTC+8) of an ISO date-time; the text before 'T' when it does not parse. */
function chinaDate(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso.slice(0, 10) : new Date(t + 8 * 3_600_000).toISOString().slice(0, 10);
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const ch of s) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Approximate advance width in em, a little wide on purpose: CJK and full-width forms 1, stars 0.5,
 * dashes, dots and spaces 0.4, other Latin 0.6 (Noto Sans CJK's proportional Latin is narrower).
 */
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{20000}-\u{3ffff}]/u;
const emWidth = (s: string) =>
  Array.from(s).reduce((w, ch) => w + (WIDE.test(ch) ? 1 : ch === '*' ? 0.5 : /[\s.\-,:;·]/u.test(ch) ? 0.4 : 0.6), 0);

/**
 * Greedy wrap. Chinese breaks between any two characters; a run of Latin letters, digits and
 * symbols (5-*-***, 3栋*单元 keeps `*` with its neighbours) stays whole unless it is longer than a
 * line. The last allowed line ends with … when text is left over.
 */
function wrap(s: string, size: number, maxWidth: number, maxLines: number): string[] {
  const fits = (t: string) => emWidth(t) * size <= maxWidth;
  const tokens: string[] = [];
  for (const m of s.matchAll(/\s+|[^\s]/gu)) {
    const ch = m[0];
    const prev = tokens.length > 0 ? tokens[tokens.length - 1]! : undefined;
    const narrow = (t: string) => !/\s/u.test(t) && !WIDE.test(t);
    if (prev !== undefined && narrow(ch) && narrow(Array.from(prev).at(-1)!)) tokens[tokens.length - 1] = prev + ch;
    else tokens.push(/\s/u.test(ch) ? ' ' : ch);
  }
  // A token wider than a line is split by characters.
  const pieces = tokens.flatMap((t) => (fits(t) ? [t] : Array.from(t)));
  const lines: string[] = [];
  let line = '';
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (fits(line + piece) || line === '') {
      line += piece;
      continue;
    }
    if (lines.length === maxLines - 1) {
      let cut = Array.from(line);
      while (cut.length > 0 && !fits(`${cut.join('')}…`)) cut = cut.slice(0, -1);
      lines.push(`${cut.join('').trimEnd()}…`);
      return lines;
    }
    lines.push(line.trimEnd());
    line = piece === ' ' ? '' : piece;
  }
  if (line.trim() !== '') lines.push(line.trimEnd());
  return lines;
}

interface TextStyle {
  anchor?: 'start' | 'middle' | 'end';
  weight?: number;
  fill?: string;
  family?: string;
  spacing?: number;
  /** When the estimated width is larger, the text is squeezed to this width (never clipped). */
  maxWidth?: number;
  id?: string;
  cls?: string;
}

function text(x: number, y: number, value: string, size: number, style: TextStyle = {}): string {
  const attrs = [`x="${x}"`, `y="${y}"`, `font-size="${size}"`];
  if (style.id) attrs.push(`id="${style.id}"`);
  if (style.cls) attrs.push(`class="${style.cls}"`);
  if (style.anchor && style.anchor !== 'start') attrs.push(`text-anchor="${style.anchor}"`);
  if (style.weight) attrs.push(`font-weight="${style.weight}"`);
  if (style.fill) attrs.push(`fill="${style.fill}"`);
  if (style.family) attrs.push(`font-family="${esc(style.family)}"`);
  if (style.spacing) attrs.push(`letter-spacing="${style.spacing}"`);
  const estimate = emWidth(value) * size + (style.spacing ?? 0) * Array.from(value).length;
  if (style.maxWidth !== undefined && estimate > style.maxWidth) {
    attrs.push(`textLength="${style.maxWidth}"`, `lengthAdjust="spacingAndGlyphs"`);
  }
  return `<text ${attrs.join(' ')}>${esc(value)}</text>`;
}

/** The black tag column of an area, with one big white character (收 / 寄). */
function tag(top: number, bottom: number, ch: string): string {
  const mid = (top + bottom) / 2;
  return [
    `<rect x="${EDGE}" y="${top}" width="${TAG}" height="${bottom - top}" fill="#000"/>`,
    text(EDGE + TAG / 2, mid + 2.6, ch, 7, { anchor: 'middle', weight: 700, fill: '#fff' }),
  ].join('\n');
}

/** A small outlined note ending at `right`, baseline `y`. */
function badge(right: number, y: number, label: string): string {
  const w = emWidth(label) * 2.8 + 2;
  return [
    `<rect x="${right - w}" y="${y - 3.4}" width="${w}" height="4.4" rx="0.8" fill="none" stroke="#000" stroke-width="0.3"/>`,
    text(right - w / 2, y, label, 2.8, { anchor: 'middle' }),
  ].join('\n');
}

/**
 * The Code 128 symbol, centred, bars only (the number is printed as text below). The narrowest bar
 * (module) is a whole number of printer dots, as wide as fits with a 10-module quiet zone each side.
 */
function barcode(value: string, at: { top: number; height: number; maxWidth: number; dpi: number }): string {
  // Code 128 carries ASCII; anything else would come out as some other number.
  if (!/^[\x20-\x7e]+$/.test(value)) throw new TypeError('waybillNo cannot be encoded as Code 128');
  let symbol: string;
  try {
    symbol = toSVG({ bcid: 'code128', text: value, scale: 1, height: at.height, includetext: false });
  } catch {
    throw new TypeError('waybillNo cannot be encoded as Code 128');
  }
  const box = /viewBox="0 0 (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)"/.exec(symbol);
  if (!box) throw new Error('unexpected bwip-js output');
  const modules = Number(box[1]);
  if (!Number.isFinite(at.dpi) || at.dpi < 72 || at.dpi > 2400) throw new RangeError('dpi must be between 72 and 2400');
  const dot = 25.4 / at.dpi;
  const dots = Math.max(1, Math.floor(at.maxWidth / (modules + 20) / dot));
  const width = modules * dots * dot;
  const x = (W - width) / 2;
  const inner = symbol.replace(/^[\s\S]*?<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '');
  return (
    `<svg id="barcode" data-symbology="code128" data-modules="${modules}" x="${round(x)}" y="${at.top}" width="${round(width)}" height="${at.height}" ` +
    `viewBox="0 0 ${box[1]} ${box[2]}" preserveAspectRatio="none">${inner.trim()}</svg>`
  );
}

const round = (n: number) => Math.round(n * 1000) / 1000;
