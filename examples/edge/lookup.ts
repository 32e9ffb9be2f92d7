/**
 * Masks and search in a browser or an edge runtime (Cloudflare Workers, Deno, Vercel Edge, a
 * courier app's web view): core API only, no Node built-in, no key of any kind, and nothing that
 * computes a search token. A device that could compute tokens could test guessed phone numbers
 * offline against every stored token (a screen mask `138****5678` leaves only 10^4 candidates), so
 * searching happens on the search service: the device sends the query, the service decides it under
 * the access policy (purpose, scope, search quota), audits it and answers masked views.
 *
 * - `views`: screen or label views of sealed records, from their stored masks.
 * - `search`: sends a query to the search service and checks what comes back (masked views only).
 *
 * `npx tsx examples/edge/build.ts` bundles this file with esbuild for the browser and runs the bundle
 * without Node globals.
 */
import { mask, waybill, type IndexName, type MaskedRecord, type Profile, type SealedRecord, type WaybillSchema } from 'waybill-seal';

export type SealedWaybill = SealedRecord<WaybillSchema>;
export type WaybillView = MaskedRecord<WaybillSchema>;
export type WaybillIndex = IndexName<WaybillSchema>;

/** The masked views of sealed records (`screen` for staff screens, `label` for printing). No key. */
export function views(records: readonly SealedWaybill[], profile: Profile = 'screen'): WaybillView[] {
  return records.map((r) => mask(waybill, r, profile));
}

/** A query as the device sends it (over HTTPS, with the staff member's session). */
export interface SearchQuery {
  readonly index: WaybillIndex;
  readonly value: string | readonly string[];
}

/** The search service: takes a query, answers JSON `{ results: [masked views] }` (e.g. a `fetch` to the backend). */
export type SearchService = (query: SearchQuery) => Promise<string>;

/**
 * Asks the search service. What comes back must be masked views: a result whose phone is not a
 * mask (a digit run longer than a mask shows) is refused rather than shown.
 */
export async function search(service: SearchService, query: SearchQuery): Promise<WaybillView[]> {
  const answer = JSON.parse(await service(query)) as { results?: unknown };
  if (!Array.isArray(answer.results)) throw new Error('search service answered no results array');
  const results = answer.results as WaybillView[];
  for (const r of results) {
    for (const phone of [r.receiver?.mobile, r.sender?.mobile]) {
      if (typeof phone === 'string' && /\d{8,}/.test(phone)) throw new Error('search service answered an unmasked phone');
    }
  }
  return results;
}
