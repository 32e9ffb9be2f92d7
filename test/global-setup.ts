/**
 * vitest globalSetup: real key-management components for the tests that need them.
 *
 * - SoftHSM2: uses SOFTHSM2_CONF when set (`.ci/run` sets it); otherwise writes a config with a
 *   token directory under `.tmp/`. Either way a fresh token is initialised for this run.
 * - PostgreSQL: uses WAYBILL_SEAL_PG_URL when set (`.ci/run` starts a private server); otherwise
 *   starts a private server from Debian's binaries (initdb -A trust in a temp dir, 127.0.0.1 on a
 *   free port) and stops it at the end.
 *
 * Nothing is skipped silently: when a component cannot be provisioned, its tests fail with the
 * reason. WAYBILL_SEAL_SKIP_NATIVE=1 turns those failures into visible skips (never set in CI).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

export interface NativeEnv {
  hsm: { module: string; conf: string; tokenLabel: string; pin: string } | { error: string };
  pg: { url: string } | { error: string };
  skipNative: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    nativeEnv: NativeEnv;
  }
}

const ROOT = resolve(import.meta.dirname, '..');
const PIN = '1234';
const SO_PIN = '12345678';

const SOFTHSM_MODULES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
];

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cleanups: (() => void)[] = [];
  const hsm = provisionHsm(cleanups);
  const pg = await provisionPg(cleanups);
  const env: NativeEnv = { hsm, pg, skipNative: process.env['WAYBILL_SEAL_SKIP_NATIVE'] === '1' };
  if ('conf' in hsm) process.env['SOFTHSM2_CONF'] = hsm.conf;
  if ('url' in pg) process.env['WAYBILL_SEAL_PG_URL'] = pg.url;
  project.provide('nativeEnv', env);
  return async () => {
    for (const c of cleanups.reverse()) {
      try {
        c();
      } catch {
        // best effort
      }
    }
  };
}

function provisionHsm(cleanups: (() => void)[]): NativeEnv['hsm'] {
  const module = process.env['WAYBILL_SEAL_PKCS11_MODULE'] ?? SOFTHSM_MODULES.find((m) => existsSync(m));
  if (!module) return { error: 'SoftHSM2 is not installed (apt-get install softhsm2, or set WAYBILL_SEAL_PKCS11_MODULE)' };
  let conf = process.env['SOFTHSM2_CONF'];
  if (!conf) {
    const dir = join(ROOT, '.tmp', `softhsm-${process.pid}`);
    mkdirSync(join(dir, 'tokens'), { recursive: true });
    conf = join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  }
  const tokenLabel = `ws-test-${process.pid}-${Date.now() % 100000}`;
  const r = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--so-pin', SO_PIN, '--pin', PIN], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    encoding: 'utf8',
  });
  if (r.status !== 0) return { error: `softhsm2-util --init-token failed: ${(r.stderr || r.error?.message || '').trim()}` };
  cleanups.push(() => {
    spawnSync('softhsm2-util', ['--delete-token', '--token', tokenLabel], { env: { ...process.env, SOFTHSM2_CONF: conf } });
  });
  return { module, conf, tokenLabel, pin: PIN };
}

async function provisionPg(cleanups: (() => void)[]): Promise<NativeEnv['pg']> {
  const given = process.env['WAYBILL_SEAL_PG_URL'];
  if (given) return { url: given };
  const bin = pgBinDir();
  if (!bin) return { error: 'no PostgreSQL server binaries (apt-get install postgresql, or set WAYBILL_SEAL_PG_URL)' };
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'ws-pg-'));
  const port = await freePort();
  const asPg = (cmd: string, args: string[]) => {
    const r = root
      ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
      : spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd.split('/').pop()} failed: ${(r.stderr || r.stdout || r.error?.message || '').trim().slice(0, 400)}`);
  };
  try {
    if (root) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    const data = join(dir, 'data');
    asPg(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    asPg(join(bin, 'pg_ctl'), ['-D', data, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start']);
    cleanups.push(() => {
      try {
        asPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres` };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { error: `could not start a private PostgreSQL: ${(e as Error).message}` };
  }
}

function pgBinDir(): string | undefined {
  const fromEnv = process.env['WAYBILL_SEAL_PG_BIN'];
  if (fromEnv) return fromEnv;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const p = which.stdout.trim();
  return p ? p.slice(0, p.lastIndexOf('/')) : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolvePort(port));
    });
  });
}
