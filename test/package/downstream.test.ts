/**
 * Issue 20, as a user would meet it: a project of its own installs the packed tarball (`npm pack`
 * output; offline: the package's runtime dependencies come from this checkout as `file:` links,
 * vitest and TypeScript are linked in), writes a vitest test with the waybill-seal matchers, and
 * the test catches a phone number its code leaks into a log line. The same test passes once the
 * leak is gone, the failure message names the field but not the number, and the test type-checks.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const MODULES = join(ROOT, 'node_modules');

const TEST = `import { describe, expect, it } from 'vitest';
import 'waybill-seal/testing/vitest';
import { mask, waybill } from 'waybill-seal';
import { syntheticWaybills, testSealer } from 'waybill-seal/testing';
import { createWaybill } from '../src/app.js';

describe('createWaybill', () => {
  it('stores sealed records, prints label masks and logs no plaintext', async () => {
    const records = syntheticWaybills({ seed: 7, count: 5 });
    const sealer = testSealer({ seed: 'downstream' });
    const logs: string[] = [];
    for (const record of records) {
      const { stored, label } = await createWaybill(sealer, record, (line) => logs.push(line));
      expect(stored).toBeSealed(waybill);
      expect(label).toMatchMasks(waybill, stored, 'label');
      expect(mask(waybill, stored, 'screen')).toMatchMasks(waybill, stored);
    }
    expect(logs).toContainNoPlaintext(records);
  });
});
`;

const APP = `import { mask, waybill, type PlainRecord, type Sealer, type WaybillSchema } from 'waybill-seal';

export async function createWaybill(sealer: Sealer, record: PlainRecord<WaybillSchema>, log: (line: string) => void) {
  const stored = await sealer.seal(waybill, record);
  log(\`created \${record.waybillNo}\`);
  // The bug this project's test must catch: a debug line with the receiver's phone.
  if (process.env['LEAK'] === '1') log(\`sms queued for \${record.receiver.mobile ?? ''}\`);
  return { stored, label: mask(waybill, stored, 'label') };
}
`;

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], lib: ['ES2024'] },
  include: ['src', 'test'],
};

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-downstream-'));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  const project = join(dir, 'project');
  await mkdir(join(project, 'src'), { recursive: true });
  await mkdir(join(project, 'test'), { recursive: true });
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const dependencies: Record<string, string> = { 'waybill-seal': `file:${join(dir, filename)}` };
  for (const name of Object.keys(pkg.dependencies)) dependencies[name] = `file:${join(MODULES, name)}`;
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'downstream', private: true, type: 'module', dependencies }, null, 2));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: project });
  // The project's dev tools: this checkout's vitest, TypeScript and Node types.
  for (const tool of ['vitest', 'typescript', '@types']) await symlink(join(MODULES, tool), join(project, 'node_modules', tool));
  await writeFile(join(project, 'src', 'app.ts'), APP);
  await writeFile(join(project, 'test', 'app.test.ts'), TEST);
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
}, 240_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function vitest(env: Record<string, string>): Promise<{ code: number; output: string }> {
  const project = join(dir, 'project');
  try {
    const r = await run(process.execPath, [join(project, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', project], {
      cwd: project,
      env: { ...process.env, ...env, NODE_ENV: 'test', VITEST: '', VITEST_POOL_ID: '', VITEST_WORKER_ID: '', FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('a downstream project using waybill-seal/testing from the packed tarball', () => {
  it('type-checks its test with the matchers (types from the tarball)', async () => {
    const project = join(dir, 'project');
    const r = await run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]).catch((e: { stdout?: string }) => e);
    expect('stdout' in r ? r.stdout : '').toBe('');
  }, 120_000);

  it('passes without the leak', async () => {
    const r = await vitest({ LEAK: '0' });
    expect(r.output).toMatch(/1 passed/);
    expect(r.code).toBe(0);
  }, 180_000);

  it('fails on a phone number leaked into a log line, naming the field and never the number', async () => {
    const r = await vitest({ LEAK: '1' });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/1 failed/);
    expect(r.output).toContain('expected no plaintext of the records');
    expect(r.output).toMatch(/record \d receiver\.mobile \(mobile, (as-is|normalised)\) in \d+ at offset/);
    // The leaked numbers themselves are nowhere in the output (the test's records are seeded).
    const { syntheticWaybills } = await import('waybill-seal/testing');
    for (const w of syntheticWaybills({ seed: 7, count: 5 })) {
      const digits = w.receiver.mobile!.replace(/\D/g, '').slice(-11);
      expect(r.output.replace(/\D/g, ' ')).not.toContain(digits);
    }
  }, 180_000);
});
