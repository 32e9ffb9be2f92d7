/**
 * The label example scripts, run as users run them (`npx tsx …`): `examples/label/cli.ts` (npm run
 * example:label) and `examples/seal-and-print.ts`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mask, waybill } from 'waybill-seal';
import { syntheticWaybills } from 'waybill-seal/testing';
import { labelFileName } from '../../examples/label/cli.js';
import { renderLabelSvg } from '../../examples/label/render.js';
import { freshSealer } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const exec = promisify(execFile);

async function tsx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(TSX, args, { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-label-scripts-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm run example:label (tsx examples/label/cli.ts)', () => {
  it('writes <waybillNo>.svg for each demo waybill, each the label of its masks and none with plaintext', async () => {
    const out = join(dir, 'labels');
    const r = await tsx(['examples/label/cli.ts', '--out', out, '--count', '8']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Wrote 8 labels`);

    const plains = syntheticWaybills({ count: 8 });
    expect((await readdir(out)).sort()).toEqual(plains.map((p) => labelFileName(p.waybillNo)).sort());
    // Masks are a function of the plaintext, so sealing again here (other keys) gives the same label.
    const { sealer } = freshSealer();
    try {
      for (const plain of plains) {
        const svg = await readFile(join(out, labelFileName(plain.waybillNo)), 'utf8');
        const view = mask(waybill, await sealer.seal(waybill, plain), 'label');
        expect(svg).toBe(renderLabelSvg(view));
        for (const secret of [plain.receiver.name, plain.receiver.mobile!, plain.receiver.address.detail, plain.sender.name, plain.sender.address.detail, plain.sender.idNumber!]) {
          expect(svg).not.toContain(secret);
        }
      }
    } finally {
      sealer.close();
    }
  });

  it('explains itself and refuses bad arguments', async () => {
    const help = await tsx(['examples/label/cli.ts', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--out DIR');
    const bad = [[], ['--out', dir, '--count', '0'], ['--out', dir, '--bogus']];
    const runs = await Promise.all(bad.map((args) => tsx(['examples/label/cli.ts', ...args])));
    for (const [i, r] of runs.entries()) {
      expect(r.code, bad[i]!.join(' ')).toBe(1);
      expect(r.stderr).toContain('usage: npm run example:label');
    }
  });

  it('names files after the waybill number, never outside the directory', () => {
    expect(labelFileName('WS007700000000')).toBe('WS007700000000.svg');
    expect(labelFileName('../../etc/passwd')).toBe('______etc_passwd.svg');
    expect(labelFileName('')).toBe('_.svg');
  });
});

describe('npx tsx examples/seal-and-print.ts', () => {
  it('seals a waybill and prints the SVG label path and a text label, from masks only', async () => {
    const out = join(dir, 'seal-and-print');
    const r = await tsx(['examples/seal-and-print.ts', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = join(out, 'WS202503010042.svg');
    expect(r.stdout).toContain(`Label (100 × 150 mm SVG): ${file}`);
    const svg = await readFile(file, 'utf8');
    expect(svg).toContain('width="100mm" height="150mm"');
    for (const text of [r.stdout, svg]) {
      expect(text).toContain('欧***'); // receiver name mask
      expect(text).toContain('17012345678转4321'); // the virtual number GB/T 41833 recommends printing
      expect(text).toContain('*******5678'); // sender mobile, 7 digits hidden
      expect(text).toContain('5-*-***');
      for (const secret of ['欧阳娜娜', '张三丰', '13987654321', '13812345678', '11010519491231002X', '2单元501室', '5-2-301', '请放门口']) {
        expect(text).not.toContain(secret);
      }
    }
    // The text label (examples/label-text.ts) follows the path.
    expect(r.stdout).toMatch(/┌─+┐[\s\S]*运单号 WS202503010042[\s\S]*└─+┘/);
  });
});
