/**
 * findPlaintext: where any protected value of some plain records appears in a haystack (a string,
 * bytes, a log, an HTTP body, any object graph). Values are looked for as written and in the forms
 * code turns them into: phones by their national digits with any separators (`+86 138 1234 5678`,
 * `8613812345678`, `138-1234-5678`), names with any middle dot and any case and spacing, each of
 * them also inside JSON `\uXXXX` escapes and URL (percent) encoding.
 *
 * A finding says where (path, offset, length) and whose value (record index, field path, kind):
 * never the value. Paths name object keys, except a key that itself holds plaintext, which is named
 * by its position (`[key 2]`).
 */
import { ConfigError } from '../errors.js';
import { normalizeName } from '../normalize/name.js';
import { parsePhone } from '../normalize/phone.js';
import type { AnyNode, Shape } from '../schema/builder.js';
import { computeMasks, type MaskOptions } from '../mask/index.js';
import type { ProtectedKind, VirtualNumber } from '../schema/kinds.js';
import type { Schema } from '../schema/schema.js';
import { waybill } from '../schema/waybill.js';
import { countryOf, isPlainObject } from '../schema/walk.js';

/** How a found value was written. */
export type PlaintextForm = 'as-is' | 'normalised' | 'json-escaped' | 'url-encoded';

export interface PlaintextFinding {
  /** Where in the haystack: `''` for the haystack itself, else a key path (`body.lines.3`, `headers.x-phone`). */
  readonly path: string;
  /** Start of the match in that string (UTF-16 code units), or in bytes for a Uint8Array/Buffer. */
  readonly offset: number;
  /** Length of the match, in the same unit. */
  readonly length: number;
  /** The match is in an object key (named `[key N]` in `path`), not in a value. */
  readonly inKey?: true;
  /** Index of the record (0 for a single record). */
  readonly record: number;
  /** Value path of the protected field in that record (`receiver.mobile`, `items.0.name`). */
  readonly field: string;
  readonly kind: ProtectedKind;
  readonly form: PlaintextForm;
}

export interface FindPlaintextOptions {
  /** The schema of the records (default: the built-in `waybill` schema). */
  schema?: Schema;
}

interface Owner {
  readonly record: number;
  readonly field: string;
  readonly kind: ProtectedKind;
}

/** A value to look for: the owners (record, field) that hold it, and the value as written. */
interface Needle {
  readonly exact: string;
  readonly owners: Owner[];
}

/** A text value: a sticky pattern tried where its first code unit appears (and its second, when `next` says which). */
interface TextNeedle extends Needle {
  readonly pattern: RegExp;
  /** Code units the second one may be (upper and lower case), or undefined for any. */
  readonly next: ReadonlySet<number> | undefined;
}

/** Phones by their national digits (and the lengths those have); texts by their first one or two characters (lower case). */
interface Needles {
  readonly phones: Map<string, Needle>;
  readonly phoneLengths: number[];
  readonly texts: Map<number, TextNeedle[]>;
}

/** Shortest values looked for: shorter ones would match by chance (a 4-digit extension, a 3-letter name). */
const MIN_DIGITS = 6;
const MIN_ASCII_TEXT = 4;
const MIN_TEXT = 2;
/** Formatting code puts between the digits of a phone number (spaces, dashes, dots, brackets). */
const PHONE_SEPARATORS = '[\\s\\-.()/+\\u2010-\\u2015\\u2212]*';
/** Middle-dot look-alikes in names (normalize/name.ts reads them all as U+00B7), and the ASCII full stop. */
const MIDDLE_DOTS = '\\s*[\\u00B7\\u0387\\u2022\\u2027\\u2219\\u22C5\\u2E31\\u30FB\\uFF0E\\uFF65.]\\s*';
const MAX_DEPTH = 200;
/** Digits with the separators formatting puts between them: where phone numbers are looked for. */
const DIGIT_RUN = new RegExp(`\\d(?:${PHONE_SEPARATORS}\\d){${MIN_DIGITS - 1},}`, 'g');

/** Every place a protected value of `records` appears in `haystack` (see the module comment). */
export function findPlaintext(haystack: unknown, records: unknown, options: FindPlaintextOptions = {}): PlaintextFinding[] {
  const needles = needlesOf(records, options.schema ?? waybill);
  const found: PlaintextFinding[] = [];
  if (needles.phones.size > 0 || needles.texts.size > 0) scanValue(haystack, '', needles, found, new WeakSet(), 0);
  return found;
}

/** One line per finding, for messages: where and whose, never the value. */
export function describeFindings(findings: readonly PlaintextFinding[], max = 20): string {
  const lines = findings.slice(0, max).map((f) => {
    const where = `${f.path === '' ? '(haystack)' : f.path}${f.inKey ? ' (object key)' : ''} at offset ${f.offset}, length ${f.length}`;
    return `  record ${f.record} ${f.field} (${f.kind}, ${f.form}) in ${where}`;
  });
  if (findings.length > max) lines.push(`  … and ${findings.length - max} more`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Needles: the protected values of the records, as patterns

function needlesOf(records: unknown, schema: Schema): Needles {
  if (typeof schema !== 'object' || schema === null || !isPlainObject(schema.shape as unknown)) throw new ConfigError('findPlaintext: options.schema is not a schema');
  const list = Array.isArray(records) ? records : [records];
  const phones = new Map<string, Needle>();
  const texts = new Map<number, TextNeedle[]>();
  const textsByPattern = new Map<string, TextNeedle>();
  list.forEach((record, index) => {
    if (!isPlainObject(record)) throw new ConfigError(`findPlaintext: record ${index} is not an object`);
    collect(schema.shape, record, '', (field, kind, value, masks) => {
      const owner = { record: index, field, kind };
      if (PHONE_KINDS.has(kind)) {
        const digits = phoneDigits(value);
        // What the field's own masks show is public by design (a privacy number's main number).
        if (digits.length < MIN_DIGITS || masks.some((m) => m.replace(/\D/g, '').includes(digits))) return;
        let needle = phones.get(digits);
        if (!needle) phones.set(digits, (needle = { exact: value, owners: [] }));
        needle.owners.push(owner);
        return;
      }
      for (const [source, flags, form] of textPatternsOf(kind, value)) {
        if (masks.some((m) => new RegExp(source, flags.replace('y', '')).test(m))) continue;
        const key = `${flags}/${source}`;
        let needle = textsByPattern.get(key);
        if (!needle) {
          const second = form.charCodeAt(1);
          const literal = !/[\s\u00B7\u0387\u2022\u2027\u2219\u22C5\u2E31\u30FB\uFF0E\uFF65]/u.test(form[1]!);
          needle = { pattern: new RegExp(source, flags), exact: value, owners: [], next: literal ? caseVariants(second) : undefined };
          textsByPattern.set(key, needle);
          for (const first of caseVariants(form.charCodeAt(0))) {
            const bucket = texts.get(first);
            if (bucket) bucket.push(needle);
            else texts.set(first, [needle]);
          }
        }
        needle.owners.push(owner);
      }
    });
  });
  const phoneLengths = [...new Set([...phones.keys()].map((d) => d.length))];
  return { phones, phoneLengths, texts };
}

type Found = (field: string, kind: ProtectedKind, value: string, masks: readonly string[]) => void;

/** Calls `found` for each protected string in a record with the field's masks (lenient: wrong shapes are skipped). */
function collect(shape: Shape, value: Record<string, unknown>, path: string, found: Found, country?: string): void {
  const here = countryOf(value) ?? country;
  for (const [key, node] of Object.entries(shape) as [string, AnyNode][]) {
    if (!Object.hasOwn(value, key)) continue;
    const v = value[key];
    const p = path ? `${path}.${key}` : key;
    const def = node.def;
    if (def.type === 'protected') {
      if (typeof v !== 'string' && !isPlainObject(v)) continue;
      // Only a privacy number's masks show a protected value (its main number) in full.
      const masks = def.kind === 'virtualNumber' ? masksOf(def.kind, v as string | VirtualNumber, def.mask, here) : [];
      if (typeof v === 'string') found(p, def.kind, v, masks);
      // A privacy number: its parts (an extension alone is too short to look for).
      else for (const part of ['main', 'ext'] as const) if (typeof v[part] === 'string') found(`${p}.${part}`, def.kind, v[part], masks);
    } else if (def.type === 'object' && isPlainObject(v)) collect(def.shape, v, p, found, here);
    else if (def.type === 'array' && Array.isArray(v) && def.element.def.type === 'object') {
      const shapeOf = def.element.def.shape;
      v.forEach((item, i) => {
        if (isPlainObject(item)) collect(shapeOf, item, `${p}.${i}`, found, here);
      });
    }
  }
}

function masksOf(kind: ProtectedKind, value: string | VirtualNumber, options: MaskOptions, country: string | undefined): string[] {
  try {
    return Object.values(computeMasks(kind, value, options, country === undefined ? {} : { country }));
  } catch {
    return [];
  }
}

const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

const PHONE_KINDS: ReadonlySet<ProtectedKind> = new Set(['mobile', 'landline', 'phone', 'virtualNumber']);

/** A code unit in both cases. */
function caseVariants(unit: number): Set<number> {
  const c = String.fromCharCode(unit);
  return new Set([unit, c.toLowerCase().charCodeAt(0), c.toUpperCase().charCodeAt(0)]);
}

/** Sticky regular expressions (source, flags, the form they were made from) matching a text value as code writes it. */
function textPatternsOf(kind: ProtectedKind, value: string): [string, string, string][] {
  const forms = new Set([value.normalize('NFC').trim(), value.normalize('NFKC').trim()]);
  if (kind === 'name') {
    try {
      forms.add(normalizeName(value));
    } catch {
      // Not a name this package can read: the forms above still count.
    }
  }
  const out: [string, string, string][] = [];
  for (const form of forms) {
    const chars = [...form.replace(/\s/g, '')];
    if (chars.length < MIN_TEXT || (/^[\x20-\x7e]*$/.test(form) && chars.length < MIN_ASCII_TEXT)) continue;
    let source = '';
    for (const part of form.split(/(\s+|[\u00B7\u0387\u2022\u2027\u2219\u22C5\u2E31\u30FB\uFF0E\uFF65])/u)) {
      if (part === '') continue;
      // `+` is a space in URL query strings.
      if (/^\s+$/.test(part)) source += '[\\s+]+';
      else if (part.length === 1 && /[\u00B7\u0387\u2022\u2027\u2219\u22C5\u2E31\u30FB\uFF0E\uFF65]/u.test(part)) source += MIDDLE_DOTS;
      else source += escapeRegExp(part);
    }
    out.push([source, /[A-Za-z\u00C0-\u024F]/.test(form) ? 'iuy' : 'uy', form]);
  }
  return out;
}

/** The national digits of a phone (what every written form of it contains), else all its digits. */
function phoneDigits(value: string): string {
  const parsed = parsePhone(value) ?? parsePhone(value, { country: 'CN' });
  return parsed?.nationalNumber ?? value.normalize('NFKC').replace(/\D/g, '');
}

// ---------------------------------------------------------------------------------------------
// Haystacks

const utf8 = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

function scanValue(v: unknown, path: string, needles: Needles, out: PlaintextFinding[], seen: WeakSet<object>, depth: number): void {
  if (typeof v === 'string') scanString(v, path, needles, out);
  else if (typeof v === 'number' || typeof v === 'bigint') scanString(String(v), path, needles, out);
  else if (v instanceof Uint8Array) scanBytes(v, path, needles, out);
  else if (v instanceof ArrayBuffer) scanBytes(new Uint8Array(v), path, needles, out);
  else if (ArrayBuffer.isView(v)) scanBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), path, needles, out);
  else if (typeof v === 'object' && v !== null) {
    if (seen.has(v) || depth > MAX_DEPTH) return;
    seen.add(v);
    const child = (key: string) => (path ? `${path}.${key}` : key);
    if (Array.isArray(v)) v.forEach((x, i) => scanValue(x, child(String(i)), needles, out, seen, depth + 1));
    else if (v instanceof Map) {
      let i = 0;
      for (const [k, x] of v) {
        const name = scanKey(k, path, i++, needles, out, seen, depth);
        scanValue(x, child(name), needles, out, seen, depth + 1);
      }
    } else if (v instanceof Set) {
      let i = 0;
      for (const x of v) scanValue(x, child(String(i++)), needles, out, seen, depth + 1);
    } else {
      // Errors keep message and cause out of their own enumerable keys.
      const entries: [string, unknown][] = Object.entries(v);
      if (v instanceof Error) {
        entries.push(['message', v.message]);
        if ('cause' in v) entries.push(['cause', v.cause]);
      }
      entries.forEach(([k, x], i) => {
        const name = scanKey(k, path, i, needles, out, seen, depth);
        scanValue(x, child(name), needles, out, seen, depth + 1);
      });
    }
  }
}

/** Scans a key; returns how to name it in paths (`[key i]` when it holds plaintext itself). */
function scanKey(key: unknown, path: string, index: number, needles: Needles, out: PlaintextFinding[], seen: WeakSet<object>, depth: number): string {
  const name = `[key ${index}]`;
  const before = out.length;
  if (typeof key === 'string') scanString(key, path ? `${path}.${name}` : name, needles, out, true);
  else scanValue(key, path ? `${path}.${name}` : name, needles, out, seen, depth + 1);
  return out.length > before || typeof key !== 'string' ? name : key;
}

function scanBytes(bytes: Uint8Array, path: string, needles: Needles, out: PlaintextFinding[]): void {
  const text = utf8.decode(bytes);
  const start = out.length;
  scanString(text, path, needles, out);
  // Offsets in bytes: the UTF-8 length of the text before (and of) each match.
  for (let i = start; i < out.length; i++) {
    const f = out[i]!;
    const offset = encoder.encode(text.slice(0, f.offset)).length;
    out[i] = { ...f, offset, length: encoder.encode(text.slice(f.offset, f.offset + f.length)).length };
  }
}

/** Calls `found` for each match of a needle in `text` (start, end, whether it is the value as written). */
function matchNeedles(text: string, needles: Needles, found: (needle: Needle, start: number, end: number) => void): void {
  if (needles.phones.size > 0) {
    DIGIT_RUN.lastIndex = 0;
    for (let run = DIGIT_RUN.exec(text); run !== null; run = DIGIT_RUN.exec(text)) {
      // The run's digits without separators, and where each digit is in the text.
      let digits = '';
      const at: number[] = [];
      for (let i = 0; i < run[0].length; i++) {
        const c = run[0].charCodeAt(i);
        if (c >= 48 && c <= 57) {
          digits += run[0][i];
          at.push(run.index + i);
        }
      }
      for (let i = 0; i < digits.length; i++) {
        for (const length of needles.phoneLengths) {
          const needle = i + length <= digits.length ? needles.phones.get(digits.slice(i, i + length)) : undefined;
          if (needle) found(needle, at[i]!, at[i + length - 1]! + 1);
        }
      }
    }
  }
  if (needles.texts.size > 0) {
    for (let i = 0; i < text.length; i++) {
      const bucket = needles.texts.get(text.charCodeAt(i));
      if (bucket === undefined) continue;
      const next = text.charCodeAt(i + 1);
      for (const needle of bucket) {
        if (needle.next !== undefined && !needle.next.has(next)) continue;
        needle.pattern.lastIndex = i;
        const m = needle.pattern.exec(text);
        if (m) found(needle, i, i + m[0].length);
      }
    }
  }
}

function scanString(text: string, path: string, needles: Needles, out: PlaintextFinding[], inKey = false): void {
  const hits = new Set<string>();
  const report = (needle: Needle, offset: number, length: number, form: PlaintextForm) => {
    for (const o of needle.owners) {
      const id = `${offset}:${o.record}:${o.field}`;
      if (hits.has(id)) continue;
      hits.add(id);
      out.push({ path, offset, length, ...(inKey ? { inKey: true as const } : {}), record: o.record, field: o.field, kind: o.kind, form });
    }
  };
  matchNeedles(text, needles, (needle, start, end) => report(needle, start, end - start, text.slice(start, end) === needle.exact ? 'as-is' : 'normalised'));
  if (!ESCAPED.test(text)) return;
  // The same text with JSON escapes and URL encoding undone, offsets mapped back to the original.
  const { view, origin } = decodeEscapes(text);
  if (view === text) return;
  matchNeedles(view, needles, (needle, viewStart, viewEnd) => {
    const start = origin[viewStart]!;
    const end = origin[viewEnd]!;
    const raw = text.slice(start, end);
    const form: PlaintextForm = /\\u[0-9a-fA-F]{4}/.test(raw) ? 'json-escaped' : /%[0-9a-fA-F]{2}/.test(raw) ? 'url-encoded' : 'normalised';
    report(needle, start, end - start, form);
  });
}

/** Text that holds a JSON escape or a percent-encoded byte. */
const ESCAPED = /\\[u"\\/bfnrt]|%[0-9a-fA-F]{2}/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Undoes JSON string escapes (`\uXXXX`, `\n` …) and percent-encoded UTF-8 in one pass. `origin[i]` is the offset in `text` where view code unit `i` came from (plus one entry for
 * the end), so a match in the view maps back to a span of the original.
 */
function decodeEscapes(text: string): { view: string; origin: number[] } {
  let view = '';
  const origin: number[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      view += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
      origin.push(i);
      i += 6;
    } else if (c === '\\' && text[i + 1] !== undefined && Object.hasOwn(SIMPLE_ESCAPES, text[i + 1]!)) {
      view += SIMPLE_ESCAPES[text[i + 1]!];
      origin.push(i);
      i += 2;
    } else if (c === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      // A run of %XX bytes decodes as UTF-8; each character maps to the start of its first byte.
      const bytes: number[] = [];
      const starts: number[] = [];
      let j = i;
      while (text[j] === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(j + 1, j + 3))) {
        bytes.push(parseInt(text.slice(j + 1, j + 3), 16));
        starts.push(j);
        j += 3;
      }
      let b = 0;
      for (const ch of utf8.decode(Uint8Array.from(bytes))) {
        const width = encoder.encode(ch === '\uFFFD' ? '?' : ch).length;
        for (let u = 0; u < ch.length; u++) origin.push(starts[Math.min(b, starts.length - 1)]!);
        view += ch;
        b += width;
      }
      i = j;
    } else {
      view += c;
      origin.push(i);
      i += 1;
    }
  }
  origin.push(text.length);
  return { view, origin };
}
