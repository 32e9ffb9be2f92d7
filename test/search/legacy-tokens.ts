/**
 * Records as sealers before per-month index keys wrote them: tokens `<version>.…` from a long-lived
 * `index` secret (docs/FORMAT.md §10.7, legacy). The library no longer computes such tokens; tests
 * build them here, from the primitives, to check that `reindex` moves them without the secret.
 */
import type { Schema, SealedRecord, Sealer } from '../../src/index.js';
import type { SealedField } from '../../src/format/sealed-field.js';
import { ff1EncryptDigits, ff1Radix10 } from '../../src/search/ff1.js';
import { ff1Tweak } from '../../src/search/engine.js';
import { BlindTokenizer, deriveKey, FF1_KEY_LABEL, INDEX_KEY_LABEL, keyInfo } from '../../src/search/tokens.js';
import { countryAt, ff1Digits, partsFromRecord, valueAt } from '../../src/search/transforms.js';

/** `plain` sealed by `sealer`, its tokens replaced by index-secret tokens (HMAC-SHA-256) of `version`, tag renewed. */
export async function legacySealed<S extends Schema>(sealer: Sealer, schema: S, plain: Parameters<Sealer['seal']>[1], secret: Uint8Array, version = 1): Promise<SealedRecord<S>> {
  const copy = structuredClone(await sealer.seal(schema, plain as never)) as SealedRecord<S>;
  for (const spec of Object.values(schema.indexes ?? {})) {
    const primary = spec.parts[0]!.path;
    const field = valueAt(copy, primary) as SealedField | undefined;
    const tok = field?.tok as Record<string, string> | undefined;
    if (tok?.[spec.name] === undefined) continue;
    if (spec.type === 'blind') {
      const key = deriveKey('hmac-sha256', secret, keyInfo(INDEX_KEY_LABEL, 'hmac-sha256', schema.name, spec.name, spec.id));
      tok[spec.name] = new BlindTokenizer('hmac-sha256', key, spec.bits, version, 'js').token(partsFromRecord(spec.parts, plain)!);
    } else {
      const key = deriveKey('hmac-sha256', secret, keyInfo(FF1_KEY_LABEL, 'hmac-sha256', schema.name, spec.name, spec.id));
      const d = ff1Digits(spec.parts[0]!.transform, valueAt(plain, primary), countryAt(plain, primary))!;
      tok[spec.name] = `${version}.${ff1EncryptDigits(ff1Radix10(key, ff1Tweak(schema.name, primary, d.callingCode)), d.digits, primary)}`;
    }
  }
  return sealer.retag(schema, copy);
}
