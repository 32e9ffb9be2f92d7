/**
 * Canonical bytes of the parts of a sealed record that the record tag covers (docs/FORMAT.md §11):
 * a list of units, one per signed plain field and one per sealed field, sorted by path, each written
 * as two length-prefixed items: its path and the UTF-8 of the canonical JSON of its value.
 *
 * Canonical JSON: object members sorted by key (UTF-16 code unit order), no white space, strings and
 * numbers as JSON.stringify writes them. This runs on every seal and open, so the writer puts UTF-8
 * straight into one reused buffer instead of building a string per value.
 */
import { putPart, utf8Into } from '../crypto/bytes.js';
import { isSealedField } from '../format/sealed-field.js';
import type { Schema } from '../schema/schema.js';
import { signedPaths } from '../schema/signed.js';
import { isPlainObject, TAG_FIELD } from '../schema/walk.js';

/** The units written by `UnitWriter.units`, in order. */
export interface Units {
  readonly paths: readonly string[];
  /** Per unit, three offsets into the writer's bytes: path start, content start, content end (the path ends 4 bytes before its content). */
  readonly spans: Int32Array;
}

/** JSON.stringify escapes these (lone surrogates as \uXXXX); any other character is written as is. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

const INITIAL = 4096;
/** Buffers grown past this are dropped at the next reset. */
const MAX_KEPT = 1 << 20;

/**
 * A growable byte buffer for tag messages, reused from one record to the next. It holds signed plain
 * fields, ciphertexts, masks and tokens (what the stored record holds anyway), never plaintext.
 */
export class UnitWriter {
  private buf = new Uint8Array(INITIAL);
  /** Bytes written so far. */
  length = 0;

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
    // One huge record must not pin its buffer for the tagger's lifetime.
    if (this.buf.length > MAX_KEPT) this.buf = new Uint8Array(INITIAL);
  }

  put(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** A u32 big-endian length at `at` (a slot written earlier) or appended. */
  u32(n: number, at = -1): void {
    if (at < 0) {
      this.room(4);
      at = this.length;
      this.length += 4;
    }
    const b = this.buf;
    b[at] = n >>> 24;
    b[at + 1] = (n >>> 16) & 0xff;
    b[at + 2] = (n >>> 8) & 0xff;
    b[at + 3] = n & 0xff;
  }

  /** A length-prefixed UTF-8 item (the `encodeParts` encoding of one string). */
  part(s: string): void {
    this.room(4 + 3 * s.length);
    this.length = putPart(this.buf, this.length, s);
  }

  /** The units of a sealed record (its `$tag` member is not part of it), sorted by path. */
  units(schema: Schema, sealed: Record<string, unknown>): Units {
    const paths: string[] = [];
    const values: unknown[] = [];
    const signed = signedPaths(schema);
    const joined = joinedPaths(signed);
    for (let i = 0; i < signed.length; i++) {
      const v = valueAt(sealed, signed[i]!);
      if (v !== undefined) {
        paths.push(joined[i]!);
        values.push(v);
      }
    }
    collectSealed(sealed, '', paths, values);
    const order = sortedOrder(paths);
    const spans = new Int32Array(3 * order.length);
    const sorted: string[] = [];
    for (let n = 0; n < order.length; n++) {
      const i = order[n]!;
      spans[3 * n] = this.length + 4;
      this.part(paths[i]!);
      this.u32(0);
      const start = this.length;
      this.json(values[i], false);
      this.u32(this.length - start, start - 4);
      spans[3 * n + 1] = start;
      spans[3 * n + 2] = this.length;
      sorted.push(paths[i]!);
    }
    return { paths: sorted, spans };
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(2 * this.buf.length, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  private byte(c: number): void {
    this.room(1);
    this.buf[this.length++] = c;
  }

  /** UTF-8 of `s` (a lone surrogate as U+FFFD, as TextEncoder writes it). */
  private text(s: string): void {
    this.room(3 * s.length);
    this.length += utf8Into(s, this.buf, this.length);
  }

  /** A JSON string, exactly as JSON.stringify writes it: as it is unless it holds a character JSON.stringify escapes. */
  private string(s: string): void {
    this.byte(0x22);
    this.text(NEEDS_ESCAPE.test(s) ? JSON.stringify(s).slice(1, -1) : s);
    this.byte(0x22);
  }

  /** Canonical JSON of `v`. In an array, a value JSON cannot hold writes nothing (as `join` would); elsewhere `undefined`. */
  private json(v: unknown, inArray: boolean): void {
    if (typeof v === 'string') this.string(v);
    else if (Array.isArray(v)) {
      this.byte(0x5b);
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.byte(0x2c);
        if (i in v) this.json(v[i], true);
      }
      this.byte(0x5d);
    } else if (isPlainObject(v)) {
      this.byte(0x7b);
      let first = true;
      for (const k of sortedKeys(v)) {
        const x = v[k];
        if (x === undefined) continue;
        if (!first) this.byte(0x2c);
        first = false;
        this.string(k);
        this.byte(0x3a);
        this.json(x, false);
      }
      this.byte(0x7d);
    } else {
      // Numbers, booleans, null, and objects with their own JSON form (Date …), as JSON.stringify writes them.
      const text = JSON.stringify(v) as string | undefined;
      if (text !== undefined) this.text(text);
      else if (!inArray) this.text('undefined');
    }
  }
}

/**
 * Indexes of `paths` in path order (UTF-16 code units); equal paths keep the order they were found
 * in. An O(n log n) sort: a record under verification is untrusted and may hold any number of units
 * in any order.
 */
function sortedOrder(paths: readonly string[]): number[] {
  const order = paths.map((_, i) => i);
  return order.sort((a, b) => (paths[a]! < paths[b]! ? -1 : paths[a]! > paths[b]! ? 1 : a - b));
}

/** Own keys in UTF-16 code unit order (usually already in order: no sort then). */
function sortedKeys(v: Record<string, unknown>): string[] {
  const keys = Object.keys(v);
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort();
  return keys;
}

const joinedCache = new WeakMap<readonly string[][], readonly string[]>();
/** The dotted form of each signed path (memoised with the paths). */
function joinedPaths(paths: readonly string[][]): readonly string[] {
  let joined = joinedCache.get(paths);
  if (!joined) {
    joined = paths.map((keys) => keys.join('.'));
    joinedCache.set(paths, joined);
  }
  return joined;
}

/** Every sealed field anywhere in the record (not only where the schema puts them), with its path. */
function collectSealed(v: unknown, path: string, paths: string[], values: unknown[]): void {
  if (isSealedField(v)) {
    paths.push(path);
    values.push(v);
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) collectSealed(v[i], `${path}.${i}`, paths, values);
  } else if (isPlainObject(v)) {
    for (const k of Object.keys(v)) {
      if (path === '' && k === TAG_FIELD) continue;
      collectSealed(v[k], path ? `${path}.${k}` : k, paths, values);
    }
  }
}

function valueAt(record: Record<string, unknown>, keys: readonly string[]): unknown {
  let v: unknown = record;
  for (const k of keys) {
    if (!isPlainObject(v)) return undefined;
    v = v[k];
  }
  return v;
}
