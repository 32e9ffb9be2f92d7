/**
 * Small HTTP helpers for node:http: bounded JSON bodies, JSON responses, and an error type whose
 * body is chosen by the handler. No response ever echoes a request value: errors carry a code, a
 * field path or parameter name, and a reason.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error that becomes a response: `status` and a JSON body (codes and field paths only). */
export class HttpError extends Error {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, body: Readonly<Record<string, unknown>>, headers: Readonly<Record<string, string>> = {}) {
    super(`HTTP ${status} ${String(body['error'] ?? '')}`);
    this.name = 'HttpError';
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

export const badRequest = (error: string, field: string, reason: string) => new HttpError(400, { error, field, reason });

const COMMON_HEADERS = {
  // Masked views are personal data too (a mask narrows a phone number down to 10^4 candidates).
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Past this many bytes an oversized body is not drained but the connection is dropped. */
const DRAIN_LIMIT = 8 * 1024 * 1024;

/**
 * Reads a JSON body of at most `limit` bytes. `undefined` for an empty body when `optional`.
 * 415 unless `Content-Type: application/json`; 413 when too large; 400 `invalid_json` (never the
 * parser's message: it quotes the input).
 */
export async function readJson(req: IncomingMessage, limit: number, options: { optional?: boolean } = {}): Promise<unknown> {
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = declared !== undefined && declared > limit;
  if (declared !== undefined && declared > DRAIN_LIMIT) {
    req.destroy();
    throw new HttpError(413, { error: 'payload_too_large', limit }, { connection: 'close' });
  }
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > DRAIN_LIMIT) {
      req.destroy();
      throw new HttpError(413, { error: 'payload_too_large', limit }, { connection: 'close' });
    }
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  if (tooLarge) throw new HttpError(413, { error: 'payload_too_large', limit });
  if (size === 0 && options.optional) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, { error: 'unsupported_media_type', expected: 'application/json' });
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, { error: 'invalid_json' });
  }
}

/** A header as one string, or undefined (node:http joins repeated custom headers with ", "). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}
