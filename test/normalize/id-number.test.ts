import { describe, expect, it } from 'vitest';
import { parseIdNumber } from '../../src/normalize/index.js';

describe('parseIdNumber', () => {
  it.each([
    ['11010519491231002X', '11010519491231002X', 'resident18'],
    ['11010519491231002x', '11010519491231002X', 'resident18'],
    ['１１０１０５１９４９１２３１００２ｘ', '11010519491231002X', 'resident18'],
    ['110105 19491231 002X', '11010519491231002X', 'resident18'],
    ['440524188001010014', '440524188001010014', 'resident18'],
    ['34052419800101001X', '34052419800101001X', 'resident18'],
    ['810000199408230021', '810000199408230021', 'permit'],
    ['830000199201300022', '830000199201300022', 'permit'],
    ['110105491231002', '110105491231002', 'legacy15'],
    ['440524800101001', '440524800101001', 'legacy15'],
  ])('%s → %s (%s)', (input, normalized, kind) => {
    expect(parseIdNumber(input)).toEqual({ normalized, kind });
  });

  it.each([
    ['110105194912310021', 'wrong check character'],
    ['11010519491231002Y', 'not X'],
    ['11010519491331002X', 'month 13'],
    ['11010519490230002X', 'February 30'],
    ['01010519491231002X', 'address code starting with 0'],
    ['1101051949123100X2', 'X not last'],
    ['110105491331002', 'legacy with month 13'],
    ['11010549123100X', 'legacy with a letter'],
    ['1101051949123100', '16 digits'],
    ['', 'empty'],
    ['not an id', 'text'],
  ])('rejects %s (%s)', (input) => {
    expect(parseIdNumber(input)).toBeUndefined();
  });

  it('accepts 29 February only in leap years', () => {
    // Check characters computed with the GB 11643 weights.
    expect(parseIdNumber('110105200002290013')?.kind).toBe('resident18');
    expect(parseIdNumber('110105190002290017')).toBeUndefined();
  });
});
