/**
 * The real components provisioned by test/global-setup.ts. Tests that need one call `needHsm()` /
 * `needPg()` at the top of the file: it fails the file with the reason when the component is
 * missing (never a silent skip); with WAYBILL_SEAL_SKIP_NATIVE=1 the tests are visibly skipped.
 */
import { inject } from 'vitest';

export interface HsmEnv {
  module: string;
  conf: string;
  tokenLabel: string;
  pin: string;
}

const env = () => inject('nativeEnv');

/** `{ env }` when available; `{ skip: reason }` when missing and skipping was asked for; throws otherwise. */
export function needHsm(): { env: HsmEnv; skip?: undefined } | { env?: undefined; skip: string } {
  const e = env();
  if ('error' in e.hsm) {
    if (e.skipNative) {
      console.warn(`SKIPPED (WAYBILL_SEAL_SKIP_NATIVE=1): SoftHSM2 tests: ${e.hsm.error}`);
      return { skip: e.hsm.error };
    }
    throw new Error(`SoftHSM2 is needed for these tests: ${e.hsm.error}`);
  }
  // The native library reads SOFTHSM2_CONF from this process's environment at C_Initialize.
  process.env['SOFTHSM2_CONF'] = e.hsm.conf;
  return { env: e.hsm };
}

export function needPg(): { url: string; skip?: undefined } | { url?: undefined; skip: string } {
  const e = env();
  if ('error' in e.pg) {
    if (e.skipNative) {
      console.warn(`SKIPPED (WAYBILL_SEAL_SKIP_NATIVE=1): PostgreSQL tests: ${e.pg.error}`);
      return { skip: e.pg.error };
    }
    throw new Error(`PostgreSQL is needed for these tests: ${e.pg.error}`);
  }
  return { url: e.pg.url };
}
