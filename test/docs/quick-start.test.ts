/**
 * README's Quick start runs as written and prints what it says (issue 15: docs that cannot rot).
 *
 * The block is copied to a file under .tmp/ and imported (`waybill-seal` resolves to the source, as
 * for the examples). Every `console.log` line ends with a comment whose text after its last `→ ` is
 * what the line prints (`…` stands for any characters: random nonces).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { format } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { codeBlocks, root } from './code-blocks.js';

const text = readFileSync(`${root}README.md`, 'utf8');
const lines = text.split('\n');
const start = lines.indexOf('## Quick start') + 1;
const end = lines.findIndex((l, i) => i >= start && l.startsWith('## '));
const block = codeBlocks('README.md', text).find((b) => b.lang === 'ts' && b.line > start && b.line < end);
const code = block?.code ?? '';

const logLines = code.split('\n').filter((l) => l.includes('console.log('));
/** The printed line each `console.log` line promises, in order ('' when it promises none). */
const promised = logLines.map((l) => {
  const comment = /\)\s*;?\s*\/\/(.*)$/.exec(l)?.[1] ?? '';
  const arrow = comment.lastIndexOf('→ ');
  return arrow < 0 ? '' : comment.slice(arrow + 2).trim();
});

const pattern = (shown: string) => new RegExp(`^${shown.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'u');

mkdirSync(`${root}.tmp`, { recursive: true });
const dir = mkdtempSync(`${root}.tmp/quick-start-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README Quick start', () => {
  it('is one ts block whose every console.log line says what it prints', () => {
    expect(start).toBeGreaterThan(0);
    expect(block, 'a ```ts block under "## Quick start"').toBeDefined();
    expect(promised.length).toBeGreaterThanOrEqual(10);
    expect(logLines.filter((_, i) => promised[i] === ''), 'console.log lines without `// → printed`').toEqual([]);
  });

  it('runs and prints exactly that', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(...format(...args).split('\n'));
    });
    try {
      const file = `${dir}/quick-start.ts`;
      writeFileSync(file, `${code}\nexport {};\n`);
      await import(/* @vite-ignore */ file);
    } finally {
      log.mockRestore();
    }
    expect(printed.length).toBe(promised.length);
    printed.forEach((line, i) => expect(line, `console.log #${i + 1}: README shows "${promised[i]}"`).toMatch(pattern(promised[i] ?? '')));
  });
});
