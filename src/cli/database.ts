/** The `--database URL` of the CLI: a `pg` Pool (`pg` is an optional peer, loaded only here). */
import { ConfigError } from '../errors.js';
import type { SqlClient } from '../stores/sql.js';

export interface Database extends SqlClient {
  end(): Promise<void>;
}

export async function connectDatabase(url: string, max = 4): Promise<Database> {
  const { default: pg } = await import('pg').catch(() => {
    throw new ConfigError('--database needs the "pg" package (npm install pg)');
  });
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle connection dropped by the server must not crash the command; the next query reconnects.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch {
    await pool.end().catch(() => {});
    throw new ConfigError('cannot connect to the --database');
  }
  return pool as unknown as Database;
}
