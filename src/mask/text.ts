import { PLACEHOLDER } from './stars.js';

/** Free text (notes) has no structure to keep: every profile shows the placeholder. */
export function maskText(): string {
  return PLACEHOLDER;
}

export function checkText(value: string): string | undefined {
  return value.trim() === '' ? 'empty' : undefined;
}
