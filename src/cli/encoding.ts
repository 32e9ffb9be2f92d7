/**
 * `--encoding`: input bytes are decoded strictly, one physical line at a time, into UTF-8 for the
 * readers. A line that is not valid in its encoding is never passed on as data: it is reported by
 * line number and byte offset (`INVALID_ENCODING`), and what the readers see in its place cannot
 * be sealed (JSON Lines: an empty line; CSV: a lossy decoding whose record the CSV reader rejects).
 * UTF-8 input that is valid passes through unchanged (one `isUtf8` check per block of lines).
 */
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import type { InputEncoding } from './args.js';
import type { InvalidLines } from './chunks.js';
import { MAX_LINE_BYTES, type Input } from './source.js';

type Decoder = InstanceType<typeof TextDecoder>;

const NAMES: Readonly<Record<InputEncoding, string>> = { 'utf-8': 'UTF-8', gb18030: 'GB18030', 'utf-16le': 'UTF-16LE' };
/** Byte order marks dropped at the start of the input (a UTF-8 BOM is left to the readers, which drop it). */
const BOMS: Readonly<Record<InputEncoding, readonly number[] | undefined>> = { 'utf-8': undefined, gb18030: [0x84, 0x31, 0x95, 0x33], 'utf-16le': [0xff, 0xfe] };

export interface DecodedInput {
  /** UTF-8 bytes, line for line as the input. */
  readonly input: Input;
  readonly invalid: InvalidLines;
}

/**
 * The input as UTF-8, line for line. `replace`: what stands for an invalid line (`empty` for JSON
 * Lines, `lossy` for CSV, whose record structure must stay as it is). `input.bytesRead` counts the
 * original bytes.
 */
export function decodeInput(input: Input, encoding: InputEncoding, replace: 'empty' | 'lossy'): DecodedInput {
  const invalid: InvalidLines = new Map();
  const unit = encoding === 'utf-16le' ? 2 : 1;
  const fatal = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
  const lossy = new TextDecoder(encoding, { ignoreBOM: true });
  const utf8 = new TextEncoder();
  let line = 1;
  let offset = 0; // input byte offset of the bytes being converted
  // A line longer than the readers take is passed on in parts (they reject it as too long), each
  // checked by a streaming decoder, so its record is never sealed from undecodable bytes either.
  let long: { fatal: Decoder; lossy: Decoder; at: number; bad: boolean } | undefined;

  const reject = (at: number) => {
    invalid.set(line, {
      line,
      code: 'INVALID_ENCODING',
      message: `INVALID_ENCODING: not valid ${NAMES[encoding]} at byte ${at} of the line (byte ${offset + at} of the input)`,
    });
  };

  /** One line, or the part of a long line in `bytes` (`ends`: its newline is included or the input ends). */
  const part = (bytes: Uint8Array, ends: boolean): Uint8Array => {
    if (long === undefined && ends) {
      const bad = firstInvalid(bytes, encoding);
      if (bad === undefined) return encoding === 'utf-8' ? bytes : utf8.encode(fatal.decode(bytes));
      reject(bad);
      const nl = bytes.length >= unit && bytes[bytes.length - unit] === 10 ? '\n' : '';
      return utf8.encode(replace === 'empty' ? nl : lossy.decode(bytes));
    }
    long ??= { fatal: new TextDecoder(encoding, { fatal: true, ignoreBOM: true }), lossy: new TextDecoder(encoding, { ignoreBOM: true }), at: 0, bad: false };
    const l = long;
    let out: Uint8Array | string = '';
    if (!l.bad) {
      try {
        const text = l.fatal.decode(bytes, { stream: !ends });
        out = encoding === 'utf-8' ? bytes : text;
      } catch {
        l.bad = true;
        reject(l.at + (firstInvalid(bytes, encoding) ?? 0));
      }
    }
    if (l.bad) out = replace === 'empty' ? (ends && bytes[bytes.length - unit] === 10 ? '\n' : '') : l.lossy.decode(bytes, { stream: !ends });
    l.at += bytes.length;
    if (ends) long = undefined;
    return typeof out === 'string' ? utf8.encode(out) : out;
  };

  /** UTF-8 of `bytes`: whole lines, or (`ends` false) the part of a long line. */
  const convert = (bytes: Buffer, ends: boolean): Uint8Array => {
    if (bytes.length === 0) return long === undefined ? bytes : part(bytes, ends);
    if (long === undefined && ends && encoding === 'utf-8' && isUtf8(bytes)) {
      line += countLines(bytes, unit);
      offset += bytes.length;
      return bytes;
    }
    const out: Uint8Array[] = [];
    let start = 0;
    while (start < bytes.length) {
      const nl = newlineAt(bytes, start, unit);
      const end = nl < 0 ? bytes.length : nl + unit;
      out.push(part(bytes.subarray(start, end), nl >= 0 || ends));
      if (nl >= 0) line++;
      offset += end - start;
      start = end;
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  };

  async function* decode(): AsyncGenerator<Uint8Array> {
    let pending: Buffer = Buffer.alloc(0);
    let first = true;
    for await (const read of input.stream as AsyncIterable<Buffer>) {
      input.bytesRead += read.length;
      let buf = pending.length === 0 ? read : Buffer.concat([pending, read]);
      if (first) {
        const bom = BOMS[encoding];
        if (bom && buf.length < bom.length && bom.slice(0, buf.length).every((b, i) => buf[i] === b)) {
          pending = buf;
          continue;
        }
        if (bom && bom.every((b, i) => buf[i] === b)) {
          buf = buf.subarray(bom.length);
          offset += bom.length;
        }
        first = false;
      }
      const cut = lastNewline(buf, unit);
      if (cut < 0 && buf.length <= MAX_LINE_BYTES) {
        pending = buf;
        continue;
      }
      const end = cut < 0 ? buf.length - (buf.length % unit) : cut + unit;
      pending = buf.subarray(end);
      if (end > 0) yield convert(buf.subarray(0, end), cut >= 0);
    }
    if (pending.length > 0 || long !== undefined) yield convert(pending, true);
  }

  const stream = Readable.from(decode(), { objectMode: false });
  input.stream.once('error', (e) => stream.destroy(e));
  return { input: { stream, size: input.size, bytesRead: 0 }, invalid };
}

/** Offset of the first byte of the first invalid sequence in `line`, or undefined when it decodes. */
export function firstInvalid(line: Uint8Array, encoding: InputEncoding): number | undefined {
  if (encoding === 'utf-8' ? isUtf8(line) : decodes(line, encoding)) return undefined;
  // Byte by byte: `good` is the end of the last whole character.
  const d = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
  let good = 0;
  for (let i = 0; i < line.length; i++) {
    try {
      if (d.decode(line.subarray(i, i + 1), { stream: true }) !== '') good = i + 1;
    } catch {
      return good;
    }
  }
  return good;
}

function decodes(bytes: Uint8Array, encoding: InputEncoding): boolean {
  try {
    new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A newline (LF; in UTF-16LE the unit 0A 00) at or after `from`, at a unit boundary. */
function newlineAt(b: Uint8Array, from: number, unit: number): number {
  for (let i = b.indexOf(10, from); i !== -1; i = b.indexOf(10, i + 1)) {
    if (unit === 1) return i;
    if (i % 2 === 0 && b[i + 1] === 0) return i;
  }
  return -1;
}

function lastNewline(b: Uint8Array, unit: number): number {
  for (let i = b.lastIndexOf(10); i !== -1; i = i === 0 ? -1 : b.lastIndexOf(10, i - 1)) {
    if (unit === 1) return i;
    if (i % 2 === 0 && b[i + 1] === 0) return i;
  }
  return -1;
}

function countLines(b: Uint8Array, unit: number): number {
  let n = 0;
  for (let i = newlineAt(b, 0, unit); i !== -1; i = newlineAt(b, i + unit, unit)) n++;
  return n;
}
