import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Chunk } from '../../src/cli/chunks.js';
import { jsonlChunks } from '../../src/cli/source.js';

/** The text of the JSON Lines chunks read from these reads, in order. */
async function read(...reads: number[][]): Promise<string> {
  const input = { stream: Readable.from(reads.map((r) => Buffer.from(r))), size: undefined, bytesRead: 0 };
  let text = '';
  for await (const c of jsonlChunks(input) as AsyncGenerator<Chunk>) if (c.kind === 'jsonl') text += Buffer.from(c.bytes).toString('utf8');
  return text;
}

const bytes = (s: string) => [...Buffer.from(s)];

describe('jsonlChunks', () => {
  it('drops a UTF-8 BOM whole or split over reads, and only at the start', async () => {
    const line = bytes('{"a":1}\n');
    expect(await read([0xef, 0xbb, 0xbf, ...line])).toBe('{"a":1}\n');
    expect(await read([0xef], [0xbb], [0xbf, ...line])).toBe('{"a":1}\n');
    expect(await read([0xef, 0xbb], [0xbf], line)).toBe('{"a":1}\n');
    expect(await read(line, [0xef, 0xbb, 0xbf, ...line])).toBe(`{"a":1}\n\uFEFF{"a":1}\n`);
  });

  it('keeps bytes that only begin like a BOM', async () => {
    expect(await read([0xef, 0xbb])).toBe(Buffer.from([0xef, 0xbb]).toString('utf8'));
    expect(await read([0xef], [0x41, 0x0a])).toBe(Buffer.from([0xef, 0x41, 0x0a]).toString('utf8'));
    expect(await read([], bytes('x\n'))).toBe('x\n');
  });
});
