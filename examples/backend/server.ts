/**
 * npm run example:backend [-- --port N] [--host H] [--seed N]
 *
 * Starts the waybill backend (app.ts) on http://127.0.0.1:3000, with the staff console at /console/.
 *
 *   DATABASE_URL            PostgreSQL connection string; without it, embedded PGlite (in memory)
 *   PGLITE_DIR              keep the PGlite database in this directory instead of memory
 *   WAYBILL_SEAL_KEY_FILE   key file from `npx waybill-seal keygen --out keys.json`
 *   WAYBILL_SEAL_KEYS       the key file's JSON itself (containers, secret managers)
 *   PORT, HOST              listen address (default 3000, 127.0.0.1)
 *   SHUTDOWN_GRACE_MS       on SIGTERM/SIGINT, how long requests in flight may take to finish (default 10000)
 *
 * With neither key variable and an in-memory database, keys are generated for this run. A
 * persistent database (DATABASE_URL or PGLITE_DIR) needs a key file. See README.md here.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { syntheticWaybills } from 'waybill-seal/testing';
import { createBackend, type Backend, type Waybill } from './app.js';
import { openDatabase } from './db.js';
import { DEMO_STAFF } from './staff.js';
import { loadKeys, StartupError } from './keys.js';
import { describeError, exampleArgs, runIfMain } from '../args.js';

export interface Listening {
  readonly server: Server;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /**
   * Stops accepting connections and drains: requests in flight finish (their connections are then
   * closed); after `graceMs` (default 10 s) whatever is still running is cut off.
   */
  close(graceMs?: number): Promise<void>;
}

/** Serves `backend` on `host:port` (port 0: any free port). */
export async function listen(backend: Backend, options: { port?: number; host?: string } = {}): Promise<Listening> {
  let closing = false;
  const inflight = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    // While draining, no connection is kept alive for another request.
    if (closing) res.setHeader('connection', 'close');
    inflight.add(res);
    res.once('close', () => inflight.delete(res));
    backend.handle(req, res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    close: (graceMs = 10_000) =>
      new Promise<void>((ok) => {
        closing = true;
        for (const res of inflight) if (!res.headersSent) res.setHeader('connection', 'close');
        // Idle keep-alive connections go at once, busy ones as soon as their response is sent.
        const idle = setInterval(() => server.closeIdleConnections(), 20);
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearInterval(idle);
          clearTimeout(cut);
          ok();
        });
        server.closeIdleConnections();
      }),
  };
}

/** Synthetic waybills with routing (outlets, route ids), so that scoped purposes have something to match. */
export function demoWaybills(count: number, seed?: number): Waybill[] {
  return syntheticWaybills({ count: count, seed: seed }).map((w, i) => ({
    ...w,
    routing: { originOutlet: `O-${(i % 4) + 1}`, destOutlet: `D-${(i % 6) + 1}`, routeId: `R-${(i % 6) + 1}-${(i % 3) + 1}` },
  }));
}

const USAGE = `usage: npm run example:backend [-- --port N] [--host H] [--seed N]

Starts the waybill backend example (examples/backend/README.md).
  --port N    listen port (default $PORT or 3000; 0 = any free port)
  --host H    listen address (default $HOST or 127.0.0.1)
  --seed N    seal and store N synthetic waybills at start (at most 100000)
Environment: DATABASE_URL (else embedded PGlite), PGLITE_DIR, WAYBILL_SEAL_KEY_FILE or WAYBILL_SEAL_KEYS.
`;

async function main(argv: string[]): Promise<number> {
  const args = exampleArgs(argv, ['port', 'host', 'seed'] as const, USAGE);
  if ('exit' in args) return args.exit;
  const { values } = args;
  const env = process.env;
  const port = Number(values.port ?? env['PORT'] ?? 3000);
  const seed = Number(values.seed ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(seed) || seed < 0 || seed > 100_000) {
    process.stderr.write(USAGE);
    return 1;
  }
  const say = (s: string) => process.stdout.write(`${s}\n`);

  const dbUrl = env['DATABASE_URL'];
  const dataDir = env['PGLITE_DIR'];
  // Keys first: a configuration problem is reported before the database is touched.
  const keys = await loadKeys(env, { persistentDatabase: Boolean(dbUrl || dataDir) });
  if (!dbUrl) say(`starting embedded PGlite${dataDir ? ` in ${dataDir}` : ' (in memory)'}; this takes a few seconds …`);
  const db = await openDatabase({ url: dbUrl, dataDir });
  // Audit checkpoints outside the database (next to PGlite's directory, or AUDIT_CHECKPOINT_FILE), so a database writer cannot cut the chain unseen.
  const checkpointFile = env['AUDIT_CHECKPOINT_FILE'] ?? (dataDir ? `${dataDir.replace(/\/+$/, '')}.audit-checkpoints.jsonl` : undefined);
  if (keys.warning) process.stderr.write(`warning: ${keys.warning}\n`);
  const backend = await createBackend({ db, keyring: keys.keyring, suite: keys.suite, log: say, staff: DEMO_STAFF, ...(checkpointFile ? { checkpointFile } : {}) });

  if (seed > 0) {
    const t0 = performance.now();
    let stored = 0;
    for (const w of demoWaybills(seed)) if ((await backend.store(w)).stored) stored++;
    say(`seeded ${stored} synthetic waybills in ${((performance.now() - t0) / 1000).toFixed(1)} s (${seed - stored} existed)`);
  }

  const http = await listen(backend, { port, host: values.host ?? env['HOST'] ?? '127.0.0.1' });
  const where = dbUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite ${dataDir ? `in ${dataDir}` : 'in memory'}`;
  const keyInfo = { env: 'WAYBILL_SEAL_KEYS', file: 'key file', ephemeral: 'generated for this run' }[keys.source];
  say(`waybill-seal backend listening on ${http.url} (database: ${where}; keys: ${keyInfo}; suite ${keys.suite})`);
  say(`staff console: ${http.url}/console/`);

  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const grace = Number(env['SHUTDOWN_GRACE_MS'] ?? 10_000);
  say(`shutting down: draining requests in flight (at most ${grace} ms)`);
  await http.close(Number.isFinite(grace) && grace >= 0 ? grace : 10_000);
  backend.close();
  keys.keyring.close?.();
  await db.close();
  return 0;
}

// Start-up errors hold no request data (configuration, connection, key file problems).
runIfMain(import.meta.url, 'example:backend', main, (e) => (e instanceof StartupError ? e.message : describeError(e)));
