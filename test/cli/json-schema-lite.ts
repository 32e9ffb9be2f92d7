/**
 * A validator for the subset of JSON Schema 2020-12 that schemas/waybill-seal-schema.json uses
 * (type, enum, const, pattern, properties, required, additionalProperties, propertyNames,
 * minProperties, items, minItems, minimum, maximum, minLength, oneOf, anyOf, allOf, not,
 * if/then/else, local $ref). Test-only: it lets the tests check that the editor schema and the
 * loader agree without adding a validator dependency. Unknown keywords fail loudly.
 */
type JsonSchema = boolean | Record<string, unknown>;

const KNOWN = new Set([
  '$schema', '$id', '$defs', 'title', 'description', 'type', 'enum', 'const', 'pattern', 'properties', 'required',
  'additionalProperties', 'propertyNames', 'minProperties', 'items', 'minItems', 'minimum', 'maximum', 'minLength',
  'oneOf', 'anyOf', 'allOf', 'not', 'if', 'then', 'else', '$ref',
]);

export function validate(root: JsonSchema, value: unknown): string[] {
  const errors: string[] = [];
  check(root, root, value, '', errors);
  return errors;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function check(root: JsonSchema, schema: JsonSchema, v: unknown, at: string, errors: string[]): void {
  if (schema === true) return;
  if (schema === false) {
    errors.push(`${at}: not allowed`);
    return;
  }
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`json-schema-lite: unsupported keyword ${k}`);
  const s = schema as Record<string, any>;
  if (s['$ref'] !== undefined) {
    const path = String(s['$ref']).replace(/^#\//, '').split('/');
    let target: any = root;
    for (const p of path) target = target[p];
    check(root, target, v, at, errors);
  }
  const t = typeOf(v);
  if (s['type'] !== undefined) {
    const types: string[] = Array.isArray(s['type']) ? s['type'] : [s['type']];
    if (!types.some((x) => x === t || (x === 'number' && t === 'integer'))) errors.push(`${at}: expected ${types.join('|')}`);
  }
  if (s['enum'] !== undefined && !s['enum'].some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) errors.push(`${at}: not in enum`);
  if (Object.hasOwn(s, 'const') && JSON.stringify(s['const']) !== JSON.stringify(v)) errors.push(`${at}: not const`);
  if (typeof v === 'string') {
    if (s['pattern'] !== undefined && !new RegExp(s['pattern'], 'u').test(v)) errors.push(`${at}: pattern`);
    if (s['minLength'] !== undefined && [...v].length < s['minLength']) errors.push(`${at}: minLength`);
  }
  if (typeof v === 'number') {
    if (s['minimum'] !== undefined && v < s['minimum']) errors.push(`${at}: minimum`);
    if (s['maximum'] !== undefined && v > s['maximum']) errors.push(`${at}: maximum`);
  }
  if (t === 'object') {
    const o = v as Record<string, unknown>;
    for (const r of s['required'] ?? []) if (!Object.hasOwn(o, r)) errors.push(`${at}: required ${r}`);
    if (s['minProperties'] !== undefined && Object.keys(o).length < s['minProperties']) errors.push(`${at}: minProperties`);
    for (const [k, x] of Object.entries(o)) {
      if (s['propertyNames'] !== undefined) check(root, s['propertyNames'], k, `${at}/${k}(name)`, errors);
      if (s['properties'] && Object.hasOwn(s['properties'], k)) check(root, s['properties'][k], x, `${at}/${k}`, errors);
      else if (s['additionalProperties'] !== undefined) check(root, s['additionalProperties'], x, `${at}/${k}`, errors);
    }
  }
  if (t === 'array') {
    const a = v as unknown[];
    if (s['minItems'] !== undefined && a.length < s['minItems']) errors.push(`${at}: minItems`);
    if (s['items'] !== undefined) a.forEach((x, i) => check(root, s['items'], x, `${at}/${i}`, errors));
  }
  const passes = (sub: JsonSchema) => {
    const e: string[] = [];
    check(root, sub, v, at, e);
    return e.length === 0;
  };
  if (s['allOf']) for (const sub of s['allOf']) check(root, sub, v, at, errors);
  if (s['anyOf'] && !s['anyOf'].some(passes)) errors.push(`${at}: anyOf`);
  if (s['oneOf'] && s['oneOf'].filter(passes).length !== 1) errors.push(`${at}: oneOf (${s['oneOf'].filter(passes).length} match)`);
  if (s['not'] !== undefined && passes(s['not'])) errors.push(`${at}: not`);
  if (s['if'] !== undefined) {
    if (passes(s['if'])) {
      if (s['then'] !== undefined) check(root, s['then'], v, at, errors);
    } else if (s['else'] !== undefined) check(root, s['else'], v, at, errors);
  }
}
