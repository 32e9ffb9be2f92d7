/**
 * The SVG label of examples/label: drawn from the label masks only, well-formed and escaped, with a
 * Code 128 barcode that decodes to the waybill number, and rendered by a real browser (headless
 * Debian Chromium) into a non-blank 100 × 150 mm image whose barcode still scans.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { toSVG } from 'bwip-js/generic';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { mask, waybill, type MaskedRecord, type MaskedText, type OpenedRecord, type PlainRecord, type SealedRecord, type WaybillSchema } from 'waybill-seal';
import { syntheticWaybills } from 'waybill-seal/testing';
import { esc, renderLabelSvg, routeCodeOf, type LabelView } from '../../examples/label/render.js';
import { freshSealer, sampleWaybill } from '../helpers.js';
import { CHROMIUM_FLAGS } from './fixtures.js';

type W = WaybillSchema;
const run = promisify(execFile);
const CI = process.env['CI'] === 'true' || process.env['CI'] === '1';

// ---------------------------------------------------------------------------------------------
// Fixtures: plain waybills, their sealed records and label views.

const { sealer } = freshSealer();
const sample = (): PlainRecord<W> => sampleWaybill() as PlainRecord<W>;
let plains: PlainRecord<W>[];
let sealedAll: SealedRecord<W>[];
let views: LabelView[];

beforeAll(async () => {
  plains = [sample(), ...syntheticWaybills({ count: 40, seed: 7 })];
  sealedAll = await sealer.sealMany(waybill, plains);
  views = sealedAll.map((r) => mask(waybill, r, 'label'));
});
afterAll(() => sealer.close());

async function labelOf(plain: PlainRecord<W>): Promise<LabelView> {
  return mask(waybill, await sealer.seal(waybill, plain), 'label');
}

// ---------------------------------------------------------------------------------------------
// Helpers: text content, a small XML well-formedness check, Code 128 decoding, PNG decoding.

const unescape = (s: string) =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
/** Every <text> and <title> content, unescaped: what a reader of the label sees. */
const textsOf = (svg: string) => [...svg.matchAll(/<(text|title)\b[^>]*>([^<]*)<\/\1>/g)].map((m) => unescape(m[2]!));

/** Tags balance, attributes are quoted, text has no raw '<' and only the five XML entities. */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  const entity = /&(?!(?:amp|lt|gt|quot|apos);)/;
  let rest = xml.trim();
  expect(rest.startsWith('<svg')).toBe(true);
  while (rest.length > 0) {
    const lt = rest.indexOf('<');
    const text = lt === -1 ? rest : rest.slice(0, lt);
    expect(entity.test(text), `bare & in text: ${text.slice(0, 40)}`).toBe(false);
    expect(text.includes('>'), `raw > in text`).toBe(false);
    if (lt === -1) break;
    const tag = /^<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/.exec(rest.slice(lt));
    expect(tag, `malformed tag at: ${rest.slice(lt, lt + 60)}`).not.toBeNull();
    const [whole, close, name, attrs, selfClose] = tag!;
    for (const a of attrs!.matchAll(/="([^"]*)"/g)) expect(entity.test(a[1]!), `bare & in attribute of <${name}>`).toBe(false);
    if (close) expect(stack.pop()).toBe(name);
    else if (!selfClose) stack.push(name!);
    rest = rest.slice(lt + whole.length);
  }
  expect(stack).toEqual([]);
}

// Code 128 patterns (bar/space widths in modules) for values 0..105, and the stop pattern.
const C128 =
  '212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 112232 122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 114131 311141 411131 211412 211214 211232'.split(
    ' ',
  );
const STOP = '2331112';

/** Decodes Code 128 from alternating bar/space widths in modules (bar first); checks the checksum. */
function decodeCode128(widths: number[]): string {
  expect(widths.length % 6).toBe(1);
  expect(widths.slice(-7).join('')).toBe(STOP);
  const values: number[] = [];
  for (let i = 0; i + 7 < widths.length + 1 - 6; i += 6) {
    const v = C128.indexOf(widths.slice(i, i + 6).join(''));
    expect(v, `unknown Code 128 symbol at element ${i}`).toBeGreaterThanOrEqual(0);
    values.push(v);
  }
  const [start, ...rest] = values;
  const check = rest.pop()!;
  expect(rest.reduce((sum, v, i) => sum + v * (i + 1), start!) % 103, 'Code 128 checksum').toBe(check);
  let set = ({ 103: 'A', 104: 'B', 105: 'C' } as Record<number, string>)[start!];
  expect(set).toBeDefined();
  let out = '';
  for (let i = 0; i < rest.length; i++) {
    const v = rest[i]!;
    if (set === 'C') {
      if (v < 100) out += String(v).padStart(2, '0');
      else if (v === 100) set = 'B';
      else if (v === 101) set = 'A';
      else throw new Error(`unsupported Code C value ${v}`);
    } else if (v === 99) set = 'C';
    else if (v === 100 && set === 'A') set = 'B';
    else if (v === 101 && set === 'B') set = 'A';
    else if (v < 64 || (set === 'B' && v < 96)) out += String.fromCharCode(v + 32);
    else if (set === 'A' && v < 96) out += String.fromCharCode(v - 64);
    else throw new Error(`unsupported Code 128 value ${v}`);
  }
  return out;
}

/** Bars of the nested bwip-js <svg id="barcode"> (vertical strokes) → widths in modules. */
function barcodeWidthsFromSvg(svg: string): number[] {
  const symbol = /<svg id="barcode"[^>]*>([\s\S]*?)<\/svg>/.exec(svg);
  expect(symbol, 'barcode element').not.toBeNull();
  const bars: [number, number][] = [];
  for (const p of symbol![1]!.matchAll(/<path[^>]*stroke-width="([\d.]+)"[^>]*d="([^"]+)"/g)) {
    const w = Number(p[1]);
    for (const m of p[2]!.matchAll(/M([\d.]+) [\d.]+L([\d.]+) [\d.]+/g)) bars.push([Number(m[1]) - w / 2, Number(m[1]) + w / 2]);
  }
  bars.sort((a, b) => a[0] - b[0]);
  const widths: number[] = [];
  for (let i = 0; i < bars.length; i++) {
    if (i > 0) widths.push(Math.round(bars[i]![0] - bars[i - 1]![1]));
    widths.push(Math.round(bars[i]![1] - bars[i]![0]));
  }
  return widths;
}

interface Png {
  width: number;
  height: number;
  /** Luminance 0..255, row-major. */
  gray: Uint8Array;
}

/** A PNG decoder for what Chromium writes: 8-bit RGB or RGBA, not interlaced. */
function decodePng(buf: Buffer): Png {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, color, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      expect({ depth, interlace }).toEqual({ depth: 8, interlace: 0 });
      channels = ({ 2: 3, 6: 4 } as Record<number, number>)[color!] ?? 0;
      expect(channels, `PNG colour type ${color}`).toBeGreaterThan(0);
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    expect(filter, 'PNG filter type').toBeLessThanOrEqual(4);
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[y * stride + x - channels]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels]! : 0;
      const p = a + b - c;
      const pred = [0, a, b, (a + b) >> 1, Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c][filter];
      px[y * stride + x] = (line[x]! + pred!) & 0xff;
    }
  }
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const o = i * channels;
    gray[i] = Math.round(0.299 * px[o]! + 0.587 * px[o + 1]! + 0.114 * px[o + 2]!);
  }
  return { width, height, gray };
}

/** Bar/space widths in modules along one pixel row (dark = bar) inside the label frame, for a Code 128 symbol. */
function barcodeWidthsFromRow(png: Png, y: number): number[] {
  const inset = Math.ceil((3 * png.width) / 100); // the frame line is at 2 mm
  const row = Array.from(png.gray.subarray(y * png.width, (y + 1) * png.width), (g, x) => g < 128 && x >= inset && x < png.width - inset);
  const first = row.indexOf(true);
  const last = row.lastIndexOf(true);
  const runs: number[] = [];
  for (let x = first; x <= last; ) {
    let n = 0;
    const dark = row[x];
    while (x <= last && row[x] === dark) (n++, x++);
    runs.push(n);
  }
  // k symbols of 6 elements and 11 modules, then the 7-element, 13-module stop.
  const k = (runs.length - 7) / 6;
  const module = (last - first + 1) / (11 * k + 13);
  return runs.map((r) => Math.max(1, Math.min(4, Math.round(r / module))));
}

// ---------------------------------------------------------------------------------------------

describe('renderLabelSvg: types', () => {
  it('takes the masked label view, never a plain or sealed record', () => {
    expectTypeOf(renderLabelSvg).parameter(0).toEqualTypeOf<MaskedRecord<W>>();
    expectTypeOf<PlainRecord<W>>().not.toExtend<Parameters<typeof renderLabelSvg>[0]>();
    expectTypeOf<SealedRecord<W>>().not.toExtend<Parameters<typeof renderLabelSvg>[0]>();
    const plain = plains[0]!;
    const sealed = sealedAll[0]!;
    // `tsc -p .` (npm run typecheck) fails if either of these lines compiles:
    // @ts-expect-error a plain record is not a label view
    expect(() => renderLabelSvg(plain)).toThrow(TypeError);
    // @ts-expect-error a sealed record is not a label view
    expect(() => renderLabelSvg(sealed)).toThrow(TypeError);
    const opened = { ...plain } as unknown as OpenedRecord<W>;
    // @ts-expect-error an opened record is not a label view
    expect(() => renderLabelSvg(opened)).toThrow(TypeError);
    const { virtualNumber: _vn, ...stringsOnly } = plain.receiver;
    // @ts-expect-error a plain record of strings only is not a label view either (masks are MaskedText)
    expect(() => renderLabelSvg({ ...plain, receiver: stringsOnly })).toThrow(TypeError);
  });

  it('refuses at run time what a cast slipped past the type, naming the field and never the value', () => {
    // A plain waybill cast to a label view (or passed by untyped code): the run-time check catches it.
    const { virtualNumber: _drop, ...receiver } = plains[0]!.receiver;
    const cast = { ...plains[0]!, receiver } as unknown as LabelView;
    let error: unknown;
    try {
      renderLabelSvg(cast);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    const message = (error as Error).message;
    expect(message).toMatch(/receiver\.name is not a label mask/);
    expect(message).not.toContain(plains[0]!.receiver.name);
  });

  it('refuses the screen view, whose type is the same but whose phone masks hide only 4 digits', () => {
    const screen = mask(waybill, sealedAll[0]!, 'screen');
    expectTypeOf(screen).toEqualTypeOf<LabelView>();
    expect(screen.sender.mobile).toBe('138****5678');
    expect(() => renderLabelSvg(screen)).toThrow(/receiver\.mobile is not a label mask/);
    // Every label view of the synthetic set passes, landlines and foreign numbers included.
    for (const v of views) expect(() => renderLabelSvg(v)).not.toThrow();
  });

  it('accepts every label phone mask form and refuses screen and plain numbers', async () => {
    // Label masks of these: 021-******78, 0755-******88转123, 0851-*******, 010-*****, +852 ******67,
    // +1 ********71, and service numbers in full (4008208820, 95555: not personal data).
    const landlines = ['021-62345678', '0755-86013388-123', '0851-1234567', '010-12345', '+852 2123 4567', '+1 415 555 2671', '400-820-8820', '95555'];
    for (const landline of landlines) {
      const plain = sample();
      plain.sender.landline = landline;
      const v = await labelOf(plain);
      expect(() => renderLabelSvg(v), `${landline} → ${v.sender.landline}`).not.toThrow();
    }
    for (const mobile of ['13812345678', '+86 139-8765-4321', '+852 9123 4567']) {
      const plain = sample();
      plain.sender.mobile = mobile;
      const v = await labelOf(plain);
      expect(() => renderLabelSvg(v), `${mobile} → ${v.sender.mobile}`).not.toThrow();
    }
    for (const bad of ['138****5678', '021-****5678', '13812345678', '+86 138 1234 5678', '+852 ****4567']) {
      // Only an untyped caller can get here (a plain string is not a MaskedText): the renderer checks at run time too.
      const v = { ...views[0]!, sender: { ...views[0]!.sender, mobile: bad as MaskedText } };
      expect(() => renderLabelSvg(v), bad).toThrow(/sender\.mobile is not a label mask/);
    }
  });
});

describe('renderLabelSvg: content', () => {
  it('is a 100 × 150 mm SVG in millimetre units, well-formed, with the six GB/T 41833 areas', () => {
    const svg = renderLabelSvg(views[0]!);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="100mm" height="150mm" viewBox="0 0 100 150">/);
    assertWellFormedXml(svg);
    for (const area of ['code-area', 'destination-area', 'recipient-area', 'sender-area', 'contents-area', 'signature-area']) {
      expect(svg).toContain(`<g id="${area}">`);
    }
    expect(svg).toContain('Noto Sans CJK SC');
    expect(svg).toContain('WenQuanYi Zen Hei');
  });

  it('prints the label masks: names, the virtual number, the mobile mask, the starred unit and room', () => {
    const v = views[0]!;
    expect(v.sender.name).toBe('张*');
    expect(v.sender.mobile).toBe('*******5678');
    const texts = textsOf(renderLabelSvg(v));
    const all = texts.join('\n');
    expect(texts).toContain('张*');
    expect(texts).toContain('欧***');
    expect(all).toContain('*******5678');
    // GB/T 41833 recommends the privacy number on the label: it replaces the mobile mask.
    expect(texts).toContain('13800138000转1234');
    expect(all).toContain('虚拟号');
    expect(all).not.toContain(v.receiver.mobile!);
    expect(all).toContain('5-*-***');
    expect(all).toContain('3栋*单元***室');
    expect(texts).toContain('SF1234567890123');
    expect(all).toContain('书籍×2');
    expect(all).toContain('1.20 kg');
    expect(all).toContain('2025-03-01');
  });

  it('never contains plaintext of the sealed record, only masks', () => {
    for (const [i, plain] of plains.entries()) {
      const svg = renderLabelSvg(views[i]!);
      const text = textsOf(svg).join('\n');
      const sealed = sealedAll[i]!;
      const secrets: string[] = [];
      const digitsOf = (s: string) => s.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, '');
      for (const p of [plain.sender, plain.receiver] as const) {
        secrets.push(p.name, p.address.detail);
        for (const phone of [p.mobile, p.landline]) {
          if (phone === undefined) continue;
          const digits = digitsOf(phone);
          // The whole number, as given and as digits, and the hidden leading digits anywhere in the text.
          secrets.push(phone, digits);
          expect(text.replace(/\D/g, '')).not.toContain(digits.slice(0, digits.length - 4));
        }
      }
      // The address lines print the label mask of the detail (unit and room starred), nothing else.
      for (const [area, party] of [['recipient', views[i]!.receiver], ['sender', views[i]!.sender]] as const) {
        const group = new RegExp(`<g id="${area}-area">([\\s\\S]*?)</g>`).exec(svg)![1]!;
        const lines = [...group.matchAll(/<text [^>]*class="address"[^>]*>([^<]*)<\/text>/g)].map((m) => unescape(m[1]!));
        const a = party.address;
        expect(lines.join(''), `${area} address of waybill ${i}`).toBe(
          `${a.province}${a.city === a.province ? '' : a.city}${a.district}${a.town ?? ''}${a.detail}`,
        );
      }
      if (plain.sender.idNumber) secrets.push(plain.sender.idNumber, plain.sender.idNumber.slice(0, 14));
      if (plain.remark) secrets.push(plain.remark);
      // Ciphertext and the ID-number mask have no place on a label either.
      secrets.push(sealed.receiver.name.enc, sealed.sender.address.detail.enc, '******************');
      for (const s of secrets) expect(svg, `waybill ${i}`).not.toContain(s);
      // Names are only ever the mask (a surname may of course appear inside a place name).
      expect(text).toContain(views[i]!.receiver.name);
      expect(text).toContain(views[i]!.sender.name);
    }
  });

  it('escapes XML special characters in plain fields and drops control and bidi characters', async () => {
    const plain = sample();
    plain.items = [{ name: '<script>alert("x")</script> & \'tea\'', quantity: 1 }];
    plain.receiver.address.town = 'A&B<街道>';
    plain.receiver.address.district = '西湖区\u0007\u202e';
    const v = await labelOf(plain);
    const svg = renderLabelSvg(v, { carrier: 'Tom & "Jerry" <Express>', routeCode: "R&D'1" });
    assertWellFormedXml(svg);
    expect(svg).not.toContain('<script');
    expect(svg).not.toMatch(/[\u0000-\u0008\u202a-\u202e]/);
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;tea&apos;');
    expect(svg).toContain('A&amp;B&lt;街道&gt;');
    expect(svg).toContain('Tom &amp; &quot;Jerry&quot; &lt;Express&gt;');
    const texts = textsOf(svg);
    expect(texts.join('\n')).toContain('<script>alert("x")</script> & \'tea\'×1');
    expect(texts).toContain("R&D'1");
    expect(esc('\ud800x\udc00')).toBe('\ufffdx\ufffd');
    expect(esc('𠮷')).toBe('𠮷');
  });

  it('draws a Code 128 barcode that decodes to the waybill number, with bwip-js bars byte for byte', () => {
    for (const v of views.slice(0, 12)) {
      const svg = renderLabelSvg(v);
      expect(decodeCode128(barcodeWidthsFromSvg(svg))).toBe(v.waybillNo);
      const bwip = toSVG({ bcid: 'code128', text: v.waybillNo, scale: 1, height: 16, includetext: false });
      const inner = bwip.replace(/^[\s\S]*?<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '').trim();
      expect(svg).toContain(inner);
    }
    // Deterministic: the same view gives the same bytes.
    expect(renderLabelSvg(views[3]!)).toBe(renderLabelSvg(structuredClone(views[3]!)));
  });

  it('sizes the bars in whole printer dots with a quiet zone, and refuses a number Code 128 cannot carry', async () => {
    for (const dpi of [203, 300]) {
      const svg = renderLabelSvg(views[0]!, { dpi });
      const m = /<svg id="barcode"[^>]*data-modules="(\d+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(svg)!;
      const [modules, x, width] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const dots = (width / modules) * (dpi / 25.4);
      expect(Math.abs(dots - Math.round(dots))).toBeLessThan(1e-3);
      expect(x - 2).toBeGreaterThanOrEqual((width / modules) * 10 - 1e-9);
    }
    expect(() => renderLabelSvg(views[0]!, { dpi: 0 })).toThrow(RangeError);
    const plain = sample();
    plain.waybillNo = '运单一二三';
    const v = await labelOf(plain);
    expect(() => renderLabelSvg(v)).toThrow(/waybillNo cannot be encoded as Code 128/);
  });

  it('prints a route code: the option, else routing.routeId when present, else one derived from the destination', () => {
    const v = views[0]!;
    expect(routeCodeOf(v)).toMatch(/^\d{3}-\d{3}$/);
    expect(routeCodeOf(v)).toBe(routeCodeOf(structuredClone(v)));
    const withPostcode = views.find((x) => x.receiver.address.postcode !== undefined)!;
    expect(routeCodeOf(withPostcode).slice(0, 3)).toBe(withPostcode.receiver.address.postcode!.slice(0, 3));
    expect(routeCodeOf(v, ' 755W-12 ')).toBe('755W-12');
    const routed = { ...v, routing: { routeId: 'HZ-XH-031' } } as LabelView;
    expect(routeCodeOf(routed)).toBe('HZ-XH-031');
    expect(textsOf(renderLabelSvg(v, { routeCode: 'A01-07' }))).toContain('A01-07');
  });

  it('keeps long text inside the label: wraps addresses, squeezes long lines', async () => {
    const plain = sample();
    plain.receiver.address.detail = '文一西路969号西溪国际商务中心'.repeat(4) + '5-2-301';
    plain.items = Array.from({ length: 12 }, (_, i) => ({ name: `数码配件${i}`, quantity: i + 1 }));
    const svg = renderLabelSvg(await labelOf(plain));
    assertWellFormedXml(svg);
    const recipient = /<g id="recipient-area">([\s\S]*?)<\/g>/.exec(svg)![1]!;
    const lines = textsOf(recipient).filter((t) => t.includes('文一西路'));
    expect(lines.length).toBe(3);
    expect(lines[2]!.endsWith('…')).toBe(true);
    // Items that do not fit end with a count; one over-long name is squeezed to the line.
    const items = textsOf(svg.match(/<text [^>]*id="items"[^>]*>[^<]*<\/text>/)![0])[0]!;
    expect(items).toMatch(/^数码配件0×1、.*等12种$/);
    plain.items = [{ name: '超长品名'.repeat(12), quantity: 1 }];
    expect(renderLabelSvg(await labelOf(plain))).toMatch(/<text [^>]*id="items"[^>]*textLength="76" lengthAdjust="spacingAndGlyphs"/);
  });
});

// ---------------------------------------------------------------------------------------------
// A real browser: headless Chromium from Debian (apt-get install chromium fonts-noto-cjk).

function findOnPath(names: string[]): string | undefined {
  for (const name of names) {
    for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

const CHROMIUM = process.env['CHROMIUM_BIN'] ?? findOnPath(['chromium', 'chromium-browser', 'google-chrome']);
const HAS_CJK_FONT = await run('fc-list', [':lang=zh', 'family']).then(
  (r) => r.stdout.trim() !== '',
  () => false,
);
const INSTALL = 'apt-get install -y --no-install-recommends chromium fonts-noto-cjk';

describe('the label in a real browser', () => {
  let dir: string;
  let svgFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ws-label-'));
    svgFile = join(dir, `${views[0]!.waybillNo}.svg`);
    await writeFile(svgFile, renderLabelSvg(views[0]!));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function screenshot(name: string, scale: number): Promise<Png> {
    const png = join(dir, name);
    await run(
      CHROMIUM!,
      [
        '--headless',
        ...CHROMIUM_FLAGS,
        '--hide-scrollbars',
        `--user-data-dir=${join(dir, `profile-${name}`)}`,
        `--screenshot=${png}`,
        '--window-size=378,567',
        `--force-device-scale-factor=${scale}`,
        `file://${svgFile}`,
      ],
      { timeout: 60_000 },
    );
    return decodePng(await readFile(png));
  }

  it.runIf(CI)('CI has headless Chromium and a CJK font', () => {
    expect(CHROMIUM, `headless Chromium is needed to check the label rendering: ${INSTALL}`).toBeDefined();
    expect(HAS_CJK_FONT, `a CJK font is needed or Chinese renders as boxes: ${INSTALL}`).toBe(true);
  });

  it.skipIf(!CHROMIUM)('renders to a 378 × 567 px (100 × 150 mm at 96 dpi) image that is a label, not a blank page', async () => {
    const png = await screenshot('label.png', 1);
    expect([png.width, png.height]).toEqual([378, 567]);
    const dark = png.gray.reduce((n, g) => n + (g < 128 ? 1 : 0), 0) / png.gray.length;
    expect(dark).toBeGreaterThan(0.05);
    expect(dark).toBeLessThan(0.5);
    // Ink in each area: code, destination, recipient, sender, contents, signature (mm bands).
    const inkIn = (top: number, bottom: number) => {
      let n = 0;
      const [y0, y1] = [Math.round((top * 567) / 150), Math.round((bottom * 567) / 150)];
      for (let y = y0; y < y1; y++) for (let x = 40; x < 360; x++) if (png.gray[y * png.width + x]! < 128) n++;
      return n / ((y1 - y0) * 320);
    };
    for (const [top, bottom] of [[13, 29], [40, 57], [60, 91], [93, 113], [115, 127], [129, 144]] as const) {
      expect(inkIn(top, bottom), `ink in ${top}–${bottom} mm`).toBeGreaterThan(0.02);
    }
    expect(inkIn(13, 29)).toBeGreaterThan(0.3); // the bars
  });

  it.skipIf(!CHROMIUM)('the rendered barcode scans as the waybill number', async () => {
    const png = await screenshot('label-3x.png', 3);
    expect([png.width, png.height]).toEqual([378 * 3, 567 * 3]);
    const y = Math.round(((13 + 8) * png.height) / 150); // the middle of the bars
    expect(decodeCode128(barcodeWidthsFromRow(png, y))).toBe(views[0]!.waybillNo);
  });
});
