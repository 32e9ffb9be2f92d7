/** A plain-text rendering of the label areas of GB/T 41833, from the masked label view only. */
import type { MaskedRecord, WaybillSchema } from 'waybill-seal';

export type LabelView = MaskedRecord<WaybillSchema>;

const width = (s: string) => [...s].reduce((w, ch) => w + (/[\u1100-\uffff]|[\u{20000}-\u{3ffff}]/u.test(ch) ? 2 : 1), 0);
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - width(s)));

/** A stand-in for the Code 128 bars: one glyph pair per character, so each number looks different. */
const barcode = (no: string) => [...no].map((c) => ['▌▐', '█▌', '▐█', '▌▌', '█▐'][c.charCodeAt(0) % 5]).join('');

/** The renderer takes the masked view: its type has no plaintext to print. */
export function renderTextLabel(w: LabelView): string {
  const W = 46;
  const line = (s = '') => `│ ${pad(s, W)} │`;
  const rule = `├${'─'.repeat(W + 2)}┤`;
  const r = w.receiver;
  const s = w.sender;
  const phone = (p: { mobile?: string; landline?: string; virtualNumber?: string }) =>
    p.virtualNumber ?? p.mobile ?? p.landline ?? '';
  return [
    `┌${'─'.repeat(W + 2)}┐`,
    line(`运单号 ${w.waybillNo}   ${w.createdAt.slice(0, 10)}`),
    line(barcode(w.waybillNo)),
    rule,
    line(`目的地  ${r.address.province} ${r.address.city} ${r.address.district}`),
    rule,
    line(`收 ${r.name}  ${phone(r)}`),
    line(`   ${r.address.district}${r.address.town ?? ''}${r.address.detail}`),
    rule,
    line(`寄 ${s.name}  ${phone(s)}`),
    line(`   ${s.address.city}${s.address.district}${s.address.detail}`),
    rule,
    line(`内容 ${w.items.map((i) => `${i.name}×${i.quantity}`).join('、')}   ${(w.weightGrams / 1000).toFixed(2)} kg`),
    line(`签收 ________________`),
    `└${'─'.repeat(W + 2)}┘`,
  ].join('\n');
}
