/** Synthetic waybills for key-lifecycle tests (valid for the `waybill` schema). */
import { sampleWaybill } from '../helpers.js';

/** `n` distinct waybills spread over `months` calendar months of 2025 (scopes 2025-01 …). */
export function waybills(n: number, months = 3): ReturnType<typeof sampleWaybill>[] {
  return Array.from({ length: n }, (_, i) => {
    const w = sampleWaybill();
    const month = String(1 + (i % months)).padStart(2, '0');
    const tail = String(i % 10000).padStart(4, '0');
    return {
      ...w,
      waybillNo: `SF${String(1e12 + i)}`,
      createdAt: `2025-${month}-${String(1 + (i % 28)).padStart(2, '0')}T08:30:00+08:00`,
      sender: { ...w.sender, mobile: `1381234${tail}` },
      receiver: { ...w.receiver, mobile: `+86 139-8765-${tail}` },
    };
  });
}

/** Every `enc` data key id in a sealed record. */
export function dataKeyIds(sealed: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o['enc'] === 'string') out.push((o['enc'] as string).split('.')[2]!);
      else Object.values(o).forEach(walk);
    }
  };
  walk(sealed);
  return out;
}
