/**
 * Masks and search in a browser or an edge runtime (Cloudflare Workers, Deno, Vercel Edge, a
 * courier app's web view): core API only, no Node built-in, no decryption key.
 *
 * - `views`: screen or label views of sealed records, from their stored masks.
 * - `TokenTable`: looks records up by stored blind-index tokens (`tok`), e.g. tokens the server
 *   computed for a query and sent along.
 * - `queryTokens`: computes query tokens here, from the blind-index secret alone (a keyring with no
 *   KEK). Only where that secret may live: with it, tokens of guessed phone numbers can be
 *   computed offline, so prefer server-side tokens for anything that runs on staff devices.
 *
 * `npx tsx examples/edge/build.ts` bundles this file with esbuild for the browser and runs the bundle
 * without Node globals.
 */
import {
  createSealer,
  LocalKeyring,
  mask,
  MemoryKeyStore,
  storedToken,
  waybill,
  type IndexHash,
  type IndexName,
  type MaskedRecord,
  type Profile,
  type SealedRecord,
  type WaybillSchema,
} from 'waybill-seal';

export type SealedWaybill = SealedRecord<WaybillSchema>;
export type WaybillView = MaskedRecord<WaybillSchema>;
export type WaybillIndex = IndexName<WaybillSchema>;

/** The masked views of sealed records (`screen` for staff screens, `label` for printing). No key. */
export function views(records: readonly SealedWaybill[], profile: Profile = 'screen'): WaybillView[] {
  return records.map((r) => mask(waybill, r, profile));
}

/** Records by the token they store for one index. Building and looking up need no key. */
export class TokenTable {
  readonly index: WaybillIndex;
  readonly #byToken = new Map<string, SealedWaybill[]>();

  constructor(records: readonly SealedWaybill[], index: WaybillIndex) {
    this.index = index;
    for (const r of records) {
      const token = storedToken(waybill, r, index);
      if (token !== undefined) this.#byToken.set(token, [...(this.#byToken.get(token) ?? []), r]);
    }
  }

  get size(): number {
    return this.#byToken.size;
  }

  /**
   * Records storing any of `tokens` (one per index-secret version). Truncated tokens also match a
   * few other values by design: pass `lastDigits` (the query's last digits) to drop candidates
   * whose phone mask shows other last digits.
   */
  find(tokens: readonly string[], lastDigits?: string): SealedWaybill[] {
    const found = tokens.flatMap((t) => this.#byToken.get(t) ?? []);
    if (lastDigits === undefined) return found;
    const phoneOf = this.index.startsWith('sender.') ? (r: SealedWaybill) => r.sender.mobile : (r: SealedWaybill) => r.receiver.mobile;
    return found.filter((r) => {
      const tail = /(\d*)[^\d*]*$/.exec(phoneOf(r)?.mask['screen'] ?? '')?.[1] ?? '';
      const k = Math.min(tail.length, lastDigits.length);
      return k > 0 && tail.slice(-k) === lastDigits.slice(-k);
    });
  }
}

export interface IndexSecret {
  /** The index-secret version (tokens start with `<version>.`). */
  readonly version: number;
  /** base64url, as in the key file's `secrets.index`. */
  readonly key: string;
}

export interface QueryTokenOptions {
  /** The deployment's index hash: `hmac-sha256` (default) or `hmac-sm3` (the `china` preset). */
  readonly hash?: IndexHash;
  /** Region for phone numbers written without a country code (default CN). */
  readonly country?: string;
}

/**
 * Query tokens for `value` in `index`, one per secret version given (newest first), computed from
 * the blind-index secret only: the keyring holds no KEK, so nothing here can decrypt.
 */
export async function queryTokens(
  secrets: readonly IndexSecret[],
  index: WaybillIndex,
  value: string | readonly string[],
  options: QueryTokenOptions = {},
): Promise<string[]> {
  const keyring = new LocalKeyring({
    keks: [{ version: 1, createdAt: '1970-01-01T00:00:00Z', keys: {} }],
    currentKek: 1,
    secrets: { index: secrets },
  });
  const sealer = createSealer({ keyring, keyStore: new MemoryKeyStore(), ...(options.hash ? { indexHash: options.hash } : {}) });
  try {
    return await sealer.tokensFor(waybill, index, value, options.country ? { country: options.country } : {});
  } finally {
    sealer.close();
    keyring.close();
  }
}
