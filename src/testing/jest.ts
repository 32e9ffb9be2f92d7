/**
 * `import 'waybill-seal/testing/jest'` in a jest `setupFilesAfterEnv` file: registers the
 * waybill-seal matchers on jest's global `expect` and types them on `jest.Matchers` (@types/jest).
 * With `@jest/globals`, call `expect.extend(matchers)` from `waybill-seal/testing` instead.
 * @module
 */
import { ConfigError } from '../errors.js';
import { matchers, type WaybillSealMatchers } from './matchers.js';

const globalExpect = (globalThis as { expect?: { extend?: (m: typeof matchers) => void } }).expect;
if (typeof globalExpect?.extend !== 'function') {
  throw new ConfigError('waybill-seal/testing/jest: no global expect (import it from a jest setupFilesAfterEnv file, or call expect.extend(matchers))');
}
globalExpect.extend(matchers);

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars
    interface Matchers<R, T = {}> extends WaybillSealMatchers<R> {}
  }
}

export { matchers };
