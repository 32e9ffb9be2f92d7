/**
 * SECURITY.md must match the code: every test file it cites exists, and every test title it quotes
 * next to a file is in that file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('SECURITY.md', root), 'utf8');

describe('SECURITY.md cites real tests', () => {
  const cited = [...doc.matchAll(/`([a-z-]+\/[a-z0-9-]+(?:\.test)?\.ts)`((?:\s*\([^)]*\))?)/g)];

  it('cites test files', () => {
    expect(cited.length).toBeGreaterThan(20);
  });

  it('every cited file exists under test/', () => {
    const missing = cited.map((m) => m[1]!).filter((f) => !existsSync(new URL(`test/${f}`, root)));
    expect(missing).toEqual([]);
  });

  it('every quoted title next to a file appears in that file', () => {
    const wrong: string[] = [];
    for (const m of cited) {
      const text = readFileSync(new URL(`test/${m[1]}`, root), 'utf8');
      for (const q of (m[2] ?? '').matchAll(/"([^"]+)"/g)) if (!text.includes(q[1]!)) wrong.push(`${m[1]}: ${q[1]}`);
    }
    expect(wrong).toEqual([]);
  });
});
