/**
 * The `t2` tag message (docs/FORMAT.md §11): the units of a sealed record in the schema's fixed
 * order, made of the record's own strings. No sort, no JSON, no second walk to find sealed fields:
 * the schema says where every unit is (its plan is compiled once per schema).
 *
 * Every item is LP(s) = u32 big-endian byte length of the UTF-8 of s, then those bytes; a unit is
 * LP(path) LP(content), so two different records cannot give the same message. Contents: a signed
 * plain value is one type letter (`s` string or date, `n` number, `b` boolean) then its text; an
 * array holding covered values `a` then its length; an optional object holding covered values `o`;
 * a sealed field `e` LP(enc) then its masks and, when it has a `tok` member, its tokens, each as
 * u32(count) then LP(name) LP(value) per member in UTF-16 code unit order of the names; a protected
 * field holding legacy plaintext `p` alone (its presence, never its value).
 *
 * Every string in the message must be well-formed (no lone surrogate). Each unit is built as one
 * string and encoded in one native call: encoding value by value cost more than all the rest of the tag.
 */
import { encodeParts } from '../crypto/bytes.js';
import { MAX_SEALED_TEXT } from '../format/sealed-field.js';
import type { AnyNode, Shape } from '../schema/builder.js';
import type { Schema } from '../schema/schema.js';
import { signedPaths } from '../schema/signed.js';
import { isPlainObject, TAG_FIELD } from '../schema/walk.js';

const PLAIN = 0;
const SEALED = 1;
const OBJECT = 2;
const ARRAY = 3;

/** One node of a schema's tag plan: a field of the shape, in declaration order. */
interface Slot {
  readonly key: string;
  /** Its value path when no array lies above it (else built per record from the indexes). */
  readonly path: string | undefined;
  /** LP(path), when the path is fixed. */
  readonly item: Uint8Array | undefined;
  readonly type: typeof PLAIN | typeof SEALED | typeof OBJECT | typeof ARRAY;
  /** Whether this node is a unit of its own: a signed plain value or array, an array or optional object holding covered values. */
  readonly unit: boolean;
  /** Whether anything at or under it is covered (a signed value, a sealed field). */
  readonly covered: boolean;
  /** Object: its fields. */
  readonly fields: readonly Slot[] | undefined;
  /** Array: its element (key and path unused). */
  readonly element: Slot | undefined;
}

/** Why a record has no t2 message: the path of a value the schema does not describe. */
export interface Problem {
  readonly path: string;
}

const plans = new WeakMap<Schema, readonly Slot[]>();

function planOf(schema: Schema): readonly Slot[] {
  let plan = plans.get(schema);
  if (!plan) {
    const signed = new Set(signedPaths(schema).map((keys) => keys.join('.')));
    plan = fieldsOf(schema.shape, '', signed, false);
    plans.set(schema, plan);
  }
  return plan;
}

function fieldsOf(shape: Shape, parent: string | undefined, signed: ReadonlySet<string>, inSigned: boolean): Slot[] {
  return Object.entries(shape).map(([key, node]) => slotOf(key, node, parent === undefined ? undefined : parent ? `${parent}.${key}` : key, signed, inSigned));
}

function slotOf(key: string, node: AnyNode, path: string | undefined, signed: ReadonlySet<string>, inSigned: boolean): Slot {
  const def = node.def;
  const isSigned = inSigned || (path !== undefined && signed.has(path));
  const base = { key, path, item: path === undefined ? undefined : encodeParts([path]), fields: undefined, element: undefined };
  switch (def.type) {
    case 'plain':
      return { ...base, type: PLAIN, unit: isSigned, covered: isSigned };
    case 'protected':
      return { ...base, type: SEALED, unit: true, covered: true };
    case 'object': {
      const fields = fieldsOf(def.shape, path, signed, isSigned);
      const covered = fields.some((f) => f.covered);
      return { ...base, type: OBJECT, fields, unit: covered && def.optional, covered };
    }
    case 'array': {
      const element = slotOf('', def.element, undefined, signed, isSigned);
      const covered = element.covered || isSigned;
      return { ...base, type: ARRAY, element, unit: covered, covered };
    }
  }
}

type NodeBuffer = Uint8Array & { write(s: string, offset: number): number };
const NodeBuffer = (globalThis as { Buffer?: { alloc(n: number): NodeBuffer; byteLength(s: string): number } }).Buffer;
const encoder = new TextEncoder();
const newBuffer = (n: number): Uint8Array => (NodeBuffer ? NodeBuffer.alloc(n) : new Uint8Array(n));
/** Buffers grown past this are dropped at the next message. */
const MAX_KEPT = 1 << 20;
/**
 * Strings longer than this are encoded natively (Node's Buffer#write, else TextEncoder): a fixed
 * cost per call, then native speed; shorter ones by a loop (measured on Node 20).
 */
const SHORT_TEXT = 24;
/** Past this length a text's room is its exact UTF-8 length, not 3 bytes per code unit. */
const LONG_TEXT = 1 << 16;

/**
 * One record's t2 message, in a buffer reused from one record to the next. It holds signed plain
 * fields, ciphertexts, masks and tokens (what the stored record holds anyway), never plaintext.
 */
export class MessageWriter {
  private buf = newBuffer(4096);
  private length = 0;
  /** Per unit: where its bytes start and end. */
  private readonly spans: number[] = [];
  /** Whether every text so far is well-formed (UTF-8 cannot carry a lone surrogate). */
  private wellFormed = true;
  /** Per unit written since the message began: its path (verify reports name it). */
  readonly paths: string[] = [];

  /** Starts a message: its head, then LP(record id). */
  begin(head: Uint8Array, recordId: string): void {
    this.spans.length = 0;
    this.paths.length = 0;
    this.length = 0;
    this.wellFormed = true;
    if (this.buf.length > MAX_KEPT) this.buf = newBuffer(4096);
    this.put(head);
    this.item(recordId);
  }

  /** The message (a view, valid until the next message); undefined if some text holds a lone surrogate. */
  bytes(): Uint8Array | undefined {
    return this.wellFormed ? this.buf.subarray(0, this.length) : undefined;
  }

  /** Per unit, Adler-32 (RFC 1950) of its bytes, 4 bytes big-endian each: diagnostics naming the unit that differs. */
  locators(): Uint8Array {
    const spans = this.spans;
    const buf = this.buf;
    const out = new Uint8Array(2 * spans.length);
    for (let u = 0; u < spans.length; u += 2) {
      let a = 1;
      let b = 0;
      for (let i = spans[u]!, end = spans[u + 1]!; i < end; ) {
        // Sums reduced every 4,096 bytes stay below 2^31.
        for (const stop = Math.min(end, i + 4096); i < stop; i++) {
          a += buf[i]!;
          b += a;
        }
        a %= 65521;
        b %= 65521;
      }
      const h = ((b << 16) | a) >>> 0;
      out[2 * u] = h >>> 24;
      out[2 * u + 1] = (h >>> 16) & 0xff;
      out[2 * u + 2] = (h >>> 8) & 0xff;
      out[2 * u + 3] = h & 0xff;
    }
    return out;
  }

  /** Begins a unit: LP(path) (`item`: its bytes, made once per schema where the path is fixed); returns where it starts. */
  beginUnit(path: string, item: Uint8Array | undefined): number {
    const from = this.length;
    if (item) this.put(item);
    else this.item(path);
    return from;
  }

  /** Ends the unit begun at `from`. */
  endUnit(path: string, from: number): void {
    this.paths.push(path);
    this.spans.push(from, this.length);
  }

  /** Reserves a u32 written later by `patch` (a length or a count); returns where. */
  slot(): number {
    this.room(4);
    this.length += 4;
    return this.length - 4;
  }

  /** Writes `n` into the slot at `at`; by default, the byte length of what follows the slot. */
  patch(at: number, n = this.length - at - 4): void {
    const b = this.buf;
    b[at] = n >>> 24;
    b[at + 1] = (n >>> 16) & 0xff;
    b[at + 2] = (n >>> 8) & 0xff;
    b[at + 3] = n & 0xff;
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.length++] = c;
  }

  /** LP(s): u32 big-endian byte length, then UTF-8. */
  item(s: string): void {
    const at = this.slot();
    this.text(s);
    this.patch(at);
  }

  /** LP(type ‖ s): a content of one type letter (ASCII) and a text. */
  typed(type: number, s: string): void {
    const at = this.slot();
    this.byte(type);
    this.text(s);
    this.patch(at);
  }

  private put(bytes: Uint8Array): void {
    const n = bytes.length;
    this.room(n);
    // Paths are short: a loop beats TypedArray#set's fixed cost.
    if (n > 64) this.buf.set(bytes, this.length);
    else for (let i = 0, p = this.length; i < n; i++) this.buf[p + i] = bytes[i]!;
    this.length += n;
  }

  /** UTF-8 of `s`; a lone surrogate marks the message as malformed (no record the schema walk accepts has one). */
  private text(s: string): void {
    const n = s.length;
    this.room(n > LONG_TEXT && NodeBuffer ? NodeBuffer.byteLength(s) : 3 * n);
    if (n > SHORT_TEXT) {
      if (!s.isWellFormed()) this.wellFormed = false;
      this.length += NodeBuffer ? (this.buf as NodeBuffer).write(s, this.length) : encoder.encodeInto(s, this.buf.subarray(this.length)).written;
      return;
    }
    const out = this.buf;
    let p = this.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) out[p++] = c;
      else if (c < 0x800) {
        out[p++] = 0xc0 | (c >> 6);
        out[p++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        out[p++] = 0xe0 | (c >> 12);
        out[p++] = 0x80 | ((c >> 6) & 0x3f);
        out[p++] = 0x80 | (c & 0x3f);
      } else {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) this.wellFormed = false;
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        out[p++] = 0xf0 | (cp >> 18);
        out[p++] = 0x80 | ((cp >> 12) & 0x3f);
        out[p++] = 0x80 | ((cp >> 6) & 0x3f);
        out[p++] = 0x80 | (cp & 0x3f);
      }
    }
    this.length = p;
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = newBuffer(Math.max(2 * this.buf.length, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

const heads = new WeakMap<Schema, Uint8Array>();

/**
 * Writes the t2 message of `record` (a sealed record, or one being migrated whose protected fields
 * may still hold plaintext: those have a marker unit `p`, never their value). Returns the path of a
 * value the schema does not describe (an unknown member, a wrong type), for which no message is made.
 */
export function writeMessage(w: MessageWriter, schema: Schema, record: Record<string, unknown>): Problem | undefined {
  const id = record[schema.recordId];
  if (typeof id !== 'string') return { path: schema.recordId };
  let head = heads.get(schema);
  if (head === undefined) {
    head = encodeParts(['waybill-seal/tag', 't2', schema.name, String(schema.version)]);
    heads.set(schema, head);
  }
  w.begin(head, id);
  return writeObject(w, planOf(schema), record, '', true);
}

function writeObject(w: MessageWriter, fields: readonly Slot[], obj: Record<string, unknown>, parent: string, root: boolean): Problem | undefined {
  let present = root && obj[TAG_FIELD] !== undefined ? 1 : 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const v = obj[f.key];
    if (v === undefined) continue;
    present++;
    const problem = writeNode(w, f, v, f.path ?? (parent ? `${parent}.${f.key}` : f.key));
    if (problem) return problem;
  }
  // Usually every member is a known field and counting them is enough; otherwise name the stranger
  // (members holding undefined are absent fields, as the schema walk reads them).
  if (Object.keys(obj).length !== present) {
    for (const k of Object.keys(obj)) {
      if (obj[k] === undefined || (root && k === TAG_FIELD)) continue;
      if (!fields.some((f) => f.key === k)) return { path: parent ? `${parent}.${k}` : k };
    }
  }
  return undefined;
}

function writeNode(w: MessageWriter, f: Slot, v: unknown, path: string): Problem | undefined {
  switch (f.type) {
    case PLAIN: {
      if (!f.unit) return undefined;
      const type = typeof v === 'string' ? 0x73 : typeof v === 'number' && Number.isFinite(v) ? 0x6e : typeof v === 'boolean' ? 0x62 : 0;
      if (type === 0) return { path };
      const from = w.beginUnit(path, f.item);
      w.typed(type, typeof v === 'string' ? v : String(v));
      w.endUnit(path, from);
      return undefined;
    }
    case SEALED: {
      if (isSealedLike(v)) return writeSealed(w, f, v, path);
      // Legacy plaintext (a record being migrated): a marker unit, no value. Absent, plaintext and
      // sealed give three different messages, so plaintext added where the tag saw nothing fails.
      const from = w.beginUnit(path, f.item);
      w.typed(0x70, '');
      w.endUnit(path, from);
      return undefined;
    }
    case OBJECT:
      if (!isPlainObject(v)) return { path };
      if (f.unit) {
        const from = w.beginUnit(path, f.item);
        w.typed(0x6f, '');
        w.endUnit(path, from);
      }
      return writeObject(w, f.fields!, v, path, false);
    case ARRAY: {
      if (!Array.isArray(v)) return { path };
      if (f.unit) {
        const from = w.beginUnit(path, f.item);
        w.typed(0x61, String(v.length));
        w.endUnit(path, from);
      }
      const element = f.element!;
      if (!element.covered && element.type !== OBJECT) return undefined;
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        const problem = item === undefined ? { path: `${path}.${i}` } : writeNode(w, element, item, `${path}.${i}`);
        if (problem) return problem;
      }
      return undefined;
    }
  }
  return undefined;
}

interface SealedLike {
  readonly enc: string;
  readonly mask: Record<string, unknown>;
  readonly tok?: Record<string, unknown>;
}

/** A sealed field's shape, checked as far as its unit needs (the `enc` format is the AEAD's to check). */
function isSealedLike(v: unknown): v is SealedLike {
  if (!isPlainObject(v) || typeof v['enc'] !== 'string' || !isPlainObject(v['mask'])) return false;
  const tok = v['tok'];
  return tok === undefined || isPlainObject(tok);
}

/** LP(path) LP(`e` ‖ LP(enc) ‖ masks [‖ tokens]); a problem if the field holds anything else. */
function writeSealed(w: MessageWriter, f: Slot, v: SealedLike, path: string): Problem | undefined {
  const members = Object.keys(v);
  for (let i = 0; i < members.length; i++) if (members[i] !== 'enc' && members[i] !== 'mask' && members[i] !== 'tok') return { path };
  const from = w.beginUnit(path, f.item);
  const at = w.slot();
  w.byte(0x65);
  // No sealed field holds longer strings (parseEnc refuses such an enc): refused before they are copied.
  if (v.enc.length > MAX_SEALED_TEXT) return { path };
  w.item(v.enc);
  if (!writePairs(w, v.mask) || (v.tok !== undefined && !writePairs(w, v.tok))) return { path };
  w.patch(at);
  w.endUnit(path, from);
  return undefined;
}

/** u32(count) then LP(name) LP(value) per member, names in UTF-16 code unit order; false if a value is not a string. */
function writePairs(w: MessageWriter, o: Record<string, unknown>): boolean {
  const keys = Object.keys(o);
  // A database may reorder members (PostgreSQL's jsonb does): sorted here, usually already.
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  w.patch(w.slot(), keys.length);
  for (let i = 0; i < keys.length; i++) {
    const value = o[keys[i]!];
    if (typeof value !== 'string' || value.length > MAX_SEALED_TEXT || keys[i]!.length > MAX_SEALED_TEXT) return false;
    w.item(keys[i]!);
    w.item(value);
  }
  return true;
}
