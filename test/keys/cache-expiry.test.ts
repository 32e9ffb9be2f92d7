/**
 * R13c L1: expiry was lazy, so an unwrapped key nobody asked for again (the index key of a month
 * shredded elsewhere, which no query reads any more) stayed in memory, not zeroed, for good.
 */
import { expect, it } from 'vitest';
import { KeyCache } from '../../src/keys/cache.js';

it('an expired cache entry nobody asks for again is zeroed at the next use of the cache (pinned ones when released)', () => {
  let t = 0;
  const cache = new KeyCache({ ttlMs: 1000, now: () => t });
  const a = new Uint8Array(32).fill(7);
  const b = new Uint8Array(32).fill(9);
  const c = new Uint8Array(32).fill(5);
  cache.set('a', 'xchacha20-poly1305', a);
  cache.set('c', 'xchacha20-poly1305', c);
  expect(cache.pin('c', c)).toBe(true); // an open still using it
  t = 500;
  cache.set('b', 'xchacha20-poly1305', b);
  t = 1000;
  expect(cache.get('b')?.key).toBe(b);
  expect(a.every((x) => x === 0)).toBe(true);
  expect(c.some((x) => x !== 0)).toBe(true);
  expect(cache.size).toBe(1);
  cache.unpin('c', c);
  expect(c.every((x) => x === 0)).toBe(true);
  t = 1500;
  cache.set('d', 'xchacha20-poly1305', new Uint8Array(32).fill(1));
  expect(b.every((x) => x === 0)).toBe(true);
});
