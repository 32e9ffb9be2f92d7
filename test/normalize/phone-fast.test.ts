/**
 * The mainland shortcut of the default phone parser (normalize/phone.ts `mainlandType`) against
 * libphonenumber itself, which the shortcut must never contradict: every 5-digit prefix of an
 * 11-digit number starting with 1, national and with +86, plus generated numbers and contexts.
 */
import fc from 'fast-check';
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { createPhoneParser } from '../../src/normalize/phone-core.js';
import { parsePhone, phoneMetadata } from '../../src/normalize/phone.js';

const slow = createPhoneParser({ parsePhoneNumberFromString, isSupportedCountry });

describe('mainland phone shortcut', () => {
  it('is enabled with the installed metadata', () => {
    expect(typeof phoneMetadata.mainlandType).toBe('function');
  });

  it('agrees with libphonenumber on every 5-digit prefix (national and +86, several endings)', () => {
    let shortcut = 0;
    for (let p = 10000; p < 20000; p++) {
      for (const tail of ['000000', '123456', '987654', '555000']) {
        const n = `${p}${tail}`;
        for (const input of [n, `+86${n}`, `+86 ${n.slice(0, 3)}-${n.slice(3, 7)}-${n.slice(7)}`]) {
          expect(parsePhone(input), input).toEqual(slow(input));
        }
        if (phoneMetadata.mainlandType!(n) !== null) shortcut++;
      }
    }
    // The shortcut covers most of the space (the rest falls back to the full parse).
    expect(shortcut).toBeGreaterThan(30000);
  });

  it('agrees on generated inputs, contexts and extensions', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^1\d{10}$/),
        fc.constantFrom(undefined, 'CN', 'cn', 'US', 'HK', 'XX'),
        fc.constantFrom('', '+86', '0086', '86-', '+86 '),
        fc.constantFrom('', '转123', ' ext. 9'),
        (n, country, prefix, ext) => {
          const input = `${prefix}${n}${ext}`;
          const ctx = country === undefined ? {} : { country };
          expect(parsePhone(input, ctx)).toEqual(slow(input, ctx));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
