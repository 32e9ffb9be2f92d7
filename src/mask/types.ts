/** The built-in profiles: `label` for the printed waybill (GB/T 41833), `screen` for the staff UI. */
export type MaskProfile = 'label' | 'screen';

export interface MaskContext {
  /** ISO alpha-2 of the record's address country, default 'CN'. Decides how numbers without a country code read. */
  country?: string;
}

export interface MaskOptions {
  /** Chinese names: keep the first grapheme (default) or the first and last (WeChat style, 王*四). */
  nameStyle?: 'keepFirst' | 'keepFirstLast';
  /** Mainland mobiles (in mobile and phone fields) on the label: `*******5678` (default) or `138******78`. Both hide 6+ digits. */
  mobileLabel?: 'last4' | 'first3last2';
  /** Extra profiles by name. A function that throws or returns a non-string yields the full mask. */
  custom?: Readonly<Record<string, (value: string, ctx: MaskContext) => string>>;
}
