/**
 * Canonical JSON as docs/FORMAT.md §11 words it, written the plain way (strings built with
 * JSON.stringify): the reference the library's byte writer is checked against.
 */
export function referenceCanonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${Array.from(v, (x) => (x === undefined ? '' : referenceCanonicalJson(x))).join(',')}]`;
  if (typeof v === 'object' && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v))) {
    const o = v as Record<string, unknown>;
    const members = Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${referenceCanonicalJson(o[k])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(v);
}
