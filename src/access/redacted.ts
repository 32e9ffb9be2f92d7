/**
 * Opened plaintext, wrapped so it does not leak by accident: every printing path (String(),
 * template literals, `+`, JSON.stringify, console.log, util.inspect, error messages) prints
 * `[redacted]`. `.reveal()` is the one way to the value, so each use of plaintext is a visible,
 * greppable call. The value sits in a private field: spreading, Object.keys, structuredClone and
 * test-framework equality see nothing.
 */

export const REDACTED = '[redacted]';

// Node's util.inspect (and so console.log) calls this symbol; no Node import is needed for it.
const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

export class Redacted<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
    Object.freeze(this);
  }

  /** The plaintext. Call it only where the value is really needed (a call, a verified label). */
  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspectCustom](): string {
    return REDACTED;
  }

  get [Symbol.toStringTag](): string {
    return 'Redacted';
  }
}

