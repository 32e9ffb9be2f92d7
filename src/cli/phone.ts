/**
 * The CLI parses phone numbers with libphonenumber-js's full metadata. The library core does not
 * install it for deep imports (browser bundles ship without it), and the package is marked
 * side-effect free (a bare `import './x.js'` is dropped by bundlers), so the CLI's main thread and
 * every worker thread call this before any record is read.
 */
import { phoneMetadata } from '../normalize/phone.js';
import { usePhoneMetadata } from '../normalize/phone-core.js';

export function installPhoneMetadata(): void {
  usePhoneMetadata(phoneMetadata);
}
