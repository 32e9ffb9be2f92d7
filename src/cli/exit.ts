/**
 * Exit codes of every `waybill-seal` command: the one place they are defined. `waybill-seal --help`,
 * each command's `--help` line and the README table are generated from `EXIT_TABLE` (a test checks
 * the README against it).
 */
export const EXIT = {
  /** Everything done. */
  OK: 0,
  /**
   * Usage or configuration error, found before any input is read: bad flag or flag value (unknown
   * purpose, mask profile, negative budget), unreadable key/schema/policy file, a key file that holds
   * none of the input's keys, bad CSV header, output not writable.
   */
  USAGE: 1,
  /** Some input lines were rejected (each reported by line number and reason); every good line was written. */
  REJECTED: 2,
  /** `open`, `find`, `token`: a quota or export budget was reached; those records were written masked. */
  QUOTA: 3,
  /** `audit verify`: the audit log failed verification. */
  AUDIT: 4,
  /**
   * `verify`, `mask --verify-key` and `open`: some record's tag or signature did not verify (those
   * records were not printed). `open` exits 4 even when a quota was also reached or other lines were bad.
   */
  INTEGRITY: 4,
  /** Ctrl-C. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One row per exit code: the short phrase of a command's help line and the full meaning. */
export const EXIT_TABLE: readonly { readonly code: ExitCode; readonly short: string; readonly meaning: string }[] = [
  { code: EXIT.OK, short: 'done', meaning: 'done (`open`: also when records were written masked because the policy refused them or their keys were shredded; each says why in `$opened`)' },
  {
    code: EXIT.USAGE,
    short: 'usage or configuration error',
    meaning:
      'usage or configuration error, found before any record is written (nothing more is read): unknown flag or flag value (a `--purpose` the policy does not define, `mask --profile` the schema does not have, a negative `--budget`), unreadable key, schema or policy file, a key file that cannot open the input (it holds none of the data keys, or none of their KEKs, that the first records of the input, about 64 KiB or 512 CSV rows, were sealed under), bad CSV header, `--out` or `--rejects` file exists (without `--force`) or is not writable',
  },
  { code: EXIT.REJECTED, short: 'some lines rejected', meaning: 'some input lines were rejected (each reported on stderr and in `--rejects FILE` by line number and reason code, never content); every other line was written' },
  { code: EXIT.QUOTA, short: 'a quota or export budget was reached', meaning: '`open`: a quota or export budget was reached (the refused records were written masked); `find`, `token`: the search quota (or, confirming a match, the open quota) was reached' },
  {
    code: EXIT.INTEGRITY,
    short: 'integrity or audit failure',
    meaning:
      'integrity: `audit verify` found an altered, removed, reordered or spliced line; `verify` (and `mask --verify-key`) found a record whose tag or signature does not verify (`mask` does not print it); `open` rejected a record whose tag does not verify (also reported by line number; 4 wins over 3 and 2 when several apply)',
  },
  { code: EXIT.INTERRUPTED, short: 'interrupted', meaning: 'interrupted (Ctrl-C)' },
];

const rowOf = (code: ExitCode) => EXIT_TABLE.find((r) => r.code === code)!;

/** `Exit codes: 0 done, 1 …` for a command's `--help`, listing the codes it can return. */
export const exitLine = (codes: readonly ExitCode[]): string =>
  `Exit codes: ${codes.map((c) => `${c} ${rowOf(c).short}`).join(', ')} (see "waybill-seal --help").`;

/** Wraps text at `width` columns with `indent` before every line after the first. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line].join('\n');
}

/** The exit-code block of `waybill-seal --help`. */
export const EXIT_CODES_TEXT = `Exit codes (every command):\n${EXIT_TABLE.map((r) => `  ${String(r.code).padEnd(3)} ${wrap(r.meaning.replaceAll('`', ''), 94, '      ')}`).join('\n')}`;

/** The README's exit-code table (Markdown). */
export const EXIT_CODES_MARKDOWN = ['| exit code | meaning (every command; also in `waybill-seal --help`) |', '| --- | --- |', ...EXIT_TABLE.map((r) => `| ${r.code} | ${r.meaning} |`)].join('\n');
