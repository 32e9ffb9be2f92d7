/**
 * Every test file runs with the default phone metadata installed, as `waybill-seal` has it (the
 * mask and search modules alone no longer load it: see src/normalize/phone-core.ts and the
 * `waybill-seal/mask` entry). test/bundles/*.test.ts checks the entry without it.
 */
import '../src/normalize/phone.js';
