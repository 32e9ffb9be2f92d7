/**
 * `import 'waybill-seal/testing/vitest'` (in a test file or a vitest `setupFiles` entry): registers
 * the waybill-seal matchers on vitest's `expect` and types them on its assertions.
 * @module
 */
import { expect } from 'vitest';
import { matchers, type WaybillSealMatchers } from './matchers.js';

expect.extend(matchers);

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends WaybillSealMatchers<T> {}
}

export { matchers };
