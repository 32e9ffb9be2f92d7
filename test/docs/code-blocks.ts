/**
 * Fenced code blocks of README.md and docs/*.md, for the tests that check the docs' TypeScript
 * (ts-blocks.test.ts) and run the Quick start (quick-start.test.ts).
 *
 * A TypeScript block is one whose info string is `ts` or `typescript`. A fragment that uses names it
 * does not define says so on the line before its fence: `<!-- ts-context: sealer, waybills -->` names
 * modules in test/docs/contexts/ whose exports it is checked with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));

export interface CodeBlock {
  /** Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word (`ts`, `sh`, ''). */
  lang: string;
  /** The info string after its first word. */
  rest: string;
  /** Names from `<!-- ts-context: a, b -->` on the nearest non-blank line above the fence. */
  contexts: string[];
  /** Did a `<!-- ts-context … -->` comment precede the block (even a malformed one)? */
  contextComment: boolean;
  code: string;
}

export const TS_LANGS = new Set(['ts', 'typescript']);

const NOT_DOCS = new Set(['node_modules', 'dist', 'coverage', '.git', '.tmp', 'test']);

/**
 * The Markdown files whose blocks are checked: README.md, docs/*.md and every other Markdown file of
 * the repository (examples' READMEs, SECURITY.md), but not CHANGELOG.md (history) or test fixtures.
 */
export function docFiles(dir = ''): string[] {
  const files: string[] = [];
  for (const e of readdirSync(`${root}${dir}`, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory() && !NOT_DOCS.has(e.name) && !e.name.startsWith('.')) files.push(...docFiles(`${dir}${e.name}/`));
    else if (e.isFile() && e.name.endsWith('.md') && `${dir}${e.name}` !== 'CHANGELOG.md') files.push(`${dir}${e.name}`);
  }
  return dir === '' ? files.sort((a, b) => (a === 'README.md' ? -1 : b === 'README.md' ? 1 : a.localeCompare(b))) : files;
}

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;
/** Blockquote markers (`> `) before a line's content. */
const QUOTE = /^(?: {0,3}> ?)*/;
const CONTEXT = /^\s*<!--\s*ts-context:\s*(.*?)\s*-->\s*$/;

export function codeBlocks(file: string, text = readFileSync(`${root}${file}`, 'utf8')): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    // A fence inside a blockquote: its lines lose the quote's markers.
    const quote = QUOTE.exec(lines[i]!)![0];
    const unquote = (l: string) => (quote === '' ? l : l.replace(QUOTE, ''));
    const open = FENCE.exec(unquote(lines[i]!));
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    // A backtick fence's info string may not contain backticks (CommonMark): then it is not a fence.
    if (fence[0] === '`' && info.includes('`')) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = unquote(lines[j]!);
      const close = FENCE.exec(line);
      if (close && close[2]![0] === fence[0] && close[2]!.length >= fence.length && close[3]!.trim() === '') break;
      // Content lines lose up to the fence's indentation (a block inside a list item).
      body.push(line.replace(new RegExp(`^ {0,${indent.length}}`), ''));
    }
    let k = i - 1;
    while (k >= 0 && unquote(lines[k]!).trim() === '') k--;
    const above = k >= 0 ? unquote(lines[k]!) : '';
    const ctx = CONTEXT.exec(above);
    const words = info.trim().split(/\s+/);
    blocks.push({
      file,
      line: i + 1,
      lang: (words[0] ?? '').toLowerCase(),
      rest: words.slice(1).join(' '),
      contexts: ctx ? ctx[1]!.split(',').map((s) => s.trim()).filter(Boolean) : [],
      contextComment: /<!--\s*ts-context/.test(above),
      code: body.join('\n'),
    });
    i = j;
  }
  return blocks;
}

export function allCodeBlocks(): CodeBlock[] {
  return docFiles().flatMap((f) => codeBlocks(f));
}
