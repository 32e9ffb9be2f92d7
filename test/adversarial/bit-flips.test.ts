/**
 * Exhaustive single-bit flips over a sealed sample record: every bit of every ciphertext payload,
 * and every bit (of the UTF-16 code unit) of every character of every enc string, mask, token and
 * the tag itself. Each flip must be detected by `verify`; payload flips must also fail `open` even
 * when an attacker holding the integrity key re-tags the record.
 */
import { describe, expect, it } from 'vitest';
import { waybill, type ProtectedPath, type SealedRecord } from '../../src/index.js';
import { freshSealer, sampleWaybill } from '../helpers.js';

type Rec = Record<string, unknown>;

/** Every string inside sealed fields and the tag, with a setter, by path. */
function sealedStrings(record: Rec): { where: string; get: () => string; set: (v: string) => void }[] {
  const out: { where: string; get: () => string; set: (v: string) => void }[] = [];
  const visit = (v: unknown, where: string, inSealed: boolean): void => {
    if (v && typeof v === 'object') {
      const isSealed = !Array.isArray(v) && typeof (v as Rec)['enc'] === 'string';
      for (const [k, x] of Object.entries(v as Rec)) {
        if (typeof x === 'string' && (inSealed || isSealed || (where === '' && k === '$tag'))) {
          const obj = v as Rec;
          out.push({ where: `${where}${where ? '.' : ''}${k}`, get: () => obj[k] as string, set: (s) => (obj[k] = s) });
        } else visit(x, `${where}${where ? '.' : ''}${k}`, inSealed || isSealed);
      }
    }
  };
  visit(record, '', false);
  return out;
}

describe('exhaustive single-bit flips', () => {
  it('every flipped bit of every sealed string and of the tag fails verification', async () => {
    const { sealer } = freshSealer();
    const sealed = (await sealer.seal(waybill, { ...sampleWaybill(), receiver: { ...sampleWaybill().receiver, landline: '0755-88889999转123' } })) as unknown as Rec;
    const strings = sealedStrings(sealed);
    expect(strings.length).toBeGreaterThan(25);
    let flips = 0;
    for (const s of strings) {
      const original = s.get();
      for (let i = 0; i < original.length; i++) {
        const code = original.charCodeAt(i);
        const bits = code > 0xff ? 16 : 8;
        for (let b = 0; b < bits; b++) {
          const flipped = code ^ (1 << b);
          // Skip flips into lone surrogates: not a string JSON storage can hold.
          if (flipped >= 0xd800 && flipped <= 0xdfff) continue;
          s.set(original.slice(0, i) + String.fromCharCode(flipped) + original.slice(i + 1));
          const verdict = await sealer.verify(waybill, sealed as never);
          if (verdict.ok) throw new Error(`undetected flip at ${s.where}[${i}] bit ${b}`);
          flips++;
        }
      }
      s.set(original);
    }
    expect((await sealer.verify(waybill, sealed as never)).ok).toBe(true);
    expect(flips).toBeGreaterThan(10_000);
  });

  it('every flipped payload bit fails open, even re-tagged by an attacker holding the integrity key', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const paths: ProtectedPath<typeof waybill>[] = ['sender.name', 'sender.mobile', 'sender.idNumber', 'sender.address.detail', 'receiver.virtualNumber', 'remark'];
    for (const path of paths) {
      const [a, b, c] = path.split('.');
      const holder = (c ? (sealed as Rec)[a!] && ((sealed as Rec)[a!] as Rec)[b!] : b ? (sealed as Rec)[a!] : sealed) as Rec;
      const key = (c ?? b ?? a)!;
      const field = holder[key] as { enc: string };
      const prefix = field.enc.slice(0, field.enc.lastIndexOf('.') + 1);
      const payload = Buffer.from(field.enc.slice(prefix.length), 'base64url');
      for (let bit = 0; bit < payload.length * 8; bit++) {
        const flipped = Buffer.from(payload);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        const copy = structuredClone(sealed) as unknown as Rec;
        const h = (c ? (copy[a!] as Rec)[b!] : b ? copy[a!] : copy) as Rec;
        h[key] = { ...field, enc: prefix + flipped.toString('base64url') };
        const forged = await sealer.retag(waybill, copy as unknown as SealedRecord<typeof waybill>);
        await expect(sealer.open(waybill, forged, { principal: 'x', purpose: 'x', fields: [path] })).rejects.toMatchObject({ code: 'AUTHENTICATION' });
      }
    }
  });
});
