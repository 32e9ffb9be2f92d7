/** Exit codes of every `waybill-seal` command: the one place they are defined (README and `--help` print this). */
export const EXIT = {
  /** Everything done. */
  OK: 0,
  /** Usage or configuration error (bad flag, unreadable key/schema/policy file, bad CSV header, output error). */
  USAGE: 1,
  /** Some input lines were rejected (each reported by line number and reason); every good line was written. */
  REJECTED: 2,
  /** `open`: a quota or export budget was reached; those records were written masked. */
  QUOTA: 3,
  /** `audit verify`: the audit log failed verification. */
  AUDIT: 4,
  /** `verify`, and `mask --verify-key`: some record's tag or signature did not verify (those records were not printed). */
  INTEGRITY: 4,
} as const;

export const EXIT_CODES_TEXT = `Exit codes (every command):
  0  done
  1  usage or configuration error: bad flag, unreadable key, schema or policy file, bad CSV
     header, output not writable; nothing more is read
  2  some input lines were rejected (each reported on stderr and in --rejects FILE by line number
     and reason code, never content); every other line was written
  3  open: a quota or export budget was reached (the refused records were written masked)
  4  integrity: audit verify found the audit log altered; verify (and mask --verify-key)
     found a record whose tag or signature does not verify (mask does not print it)
  130 interrupted (Ctrl-C)`;
