/**
 * `waybill-seal/phone`: libphonenumber-js's `max` metadata in the shape the masks, validation and
 * search tokens take, for bundles of `waybill-seal/mask` (load it lazily with `import()` where phones
 * are rare). Importing this module also installs it when no phone metadata is installed yet; call
 * `usePhoneMetadata(phoneMetadata)` to be explicit (bundlers may drop an import that is only there
 * for its side effect). The main `waybill-seal` entry needs none of this.
 * @module
 */
export { phoneMetadata, parsePhone } from './normalize/phone.js';
export { usePhoneMetadata, createPhoneParser, type PhoneMetadata, type PhoneParser, type ParsedPhone, type PhoneContext, type PhoneType } from './normalize/phone-core.js';
