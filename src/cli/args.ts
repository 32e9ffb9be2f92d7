/** Command-line parsing on node:util's parseArgs, with usage errors as a typed error. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../errors.js';

export class UsageError extends ConfigError {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON: Options = {
  in: { type: 'string' },
  out: { type: 'string' },
  schema: { type: 'string', default: 'waybill' },
  help: { type: 'boolean', short: 'h' },
};

export function parse(argv: string[], options: Options) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}
