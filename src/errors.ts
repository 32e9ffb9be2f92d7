/**
 * Every error the library throws is one of these classes, each with a stable `code`.
 * Messages and properties never carry plaintext values: only field paths, ids and reason codes.
 */
export class WaybillSealError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A record or value does not fit its schema. `path` names the field, `reason` is a stable code. */
export class ValidationError extends WaybillSealError {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string) {
    super('VALIDATION', `invalid field ${path || '(record)'}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/** A ciphertext, wrapped key or tag did not verify. Deliberately says nothing more. */
export class AuthenticationError extends WaybillSealError {
  constructor() {
    super('AUTHENTICATION', 'authentication failed');
  }
}

/** A sealed value is not in a format this version can read (before any cryptography is tried). */
export class FormatError extends WaybillSealError {
  readonly reason: string;
  constructor(reason: string) {
    super('FORMAT', `malformed sealed data: ${reason}`);
    this.reason = reason;
  }
}

/** A key is missing, of the wrong size, or a keyring/key store is misconfigured. */
export class KeyError extends WaybillSealError {
  readonly reason: string;
  constructor(reason: string, message?: string) {
    super('KEY', message ?? `key error: ${reason}`);
    this.reason = reason;
  }
}

/**
 * A wrapped data key names a KEK this keyring is not configured to accept (reason `kek_not_allowed`):
 * another KMS key, Transit key, token label or key-file version than the configured ones. Nothing was
 * sent to the key authority. Worth an alert: a key-store row this deployment did not write (a
 * database writer injecting a data key wrapped under a KEK they control) or a configuration that
 * forgot a KEK still in use.
 */
export class KekNotAllowedError extends KeyError {
  readonly kekId: string;
  readonly dataKeyId: string;
  constructor(kekId: string, dataKeyId: string, keyClass: string) {
    super(
      'kek_not_allowed',
      `data key ${dataKeyId} is wrapped under KEK ${kekId}, which this keyring is not configured to accept for key class "${keyClass}": refused (a key-store row this deployment did not write, or a KEK missing from the configuration)`,
    );
    this.kekId = kekId;
    this.dataKeyId = dataKeyId;
  }
}

/** An option or argument is wrong (programming or configuration error). */
export class ConfigError extends WaybillSealError {
  constructor(message: string, code = 'CONFIG') {
    super(code, message);
  }
}

/**
 * A file could not be read or written (disk full, read-only, permission): `reason` is the OS error
 * code (`ENOSPC`, `EROFS`, `EACCES` …) and the message names cause and file, e.g.
 * `ENOSPC: no space left on device writing out.jsonl`. Like a `ConfigError` it stops a bulk run
 * instead of rejecting every line.
 */
export class FileError extends ConfigError {
  readonly reason: string;
  readonly path: string;
  constructor(reason: string, message: string, path: string) {
    super(message, 'FILE');
    this.reason = reason;
    this.path = path;
  }
}

/**
 * The access policy refused an open (nothing was decrypted). `reason` is a stable code:
 * `unknown_purpose`, `field_not_granted`, `out_of_scope`, `missing_<evidence>` (e.g.
 * `missing_ticket`), `missing_approval`, `approval_unknown`, `approval_expired`,
 * `export_budget_spent`, `quota_exceeded`.
 */
export class AccessDeniedError extends WaybillSealError {
  readonly reason: string;
  /** Field paths concerned (for `field_not_granted`), else empty. */
  readonly fields: readonly string[];
  constructor(reason: string, detail?: string, fields: readonly string[] = []) {
    super('ACCESS_DENIED', `access denied: ${reason}${detail ? ` (${detail})` : ''}`);
    this.reason = reason;
    this.fields = fields;
  }
}

/** A field's data key was destroyed (crypto-shredding): the value cannot be opened, its masks remain. */
export class ShreddedError extends WaybillSealError {
  readonly dataKeyId: string;
  readonly shreddedAt: string;
  constructor(dataKeyId: string, shreddedAt: string) {
    super('SHREDDED', `data key ${dataKeyId} was shredded at ${shreddedAt}`);
    this.dataKeyId = dataKeyId;
    this.shreddedAt = shreddedAt;
  }
}

/**
 * A sealed record's integrity tag is missing or does not verify: a mask, signed plain field,
 * ciphertext or token was changed, added or removed. `path` names the first difference found: a
 * hint of where to look (it comes from locators outside the MAC, FORMAT §11), not proof.
 */
export class IntegrityError extends WaybillSealError {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string) {
    super('INTEGRITY', `record integrity check failed${path ? ` at ${path}` : ''}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/**
 * An ORM query that cannot be served without plaintext in the database (a `contains` or range on a
 * protected column, ordering by one, a write filtered by a token column). Names the model and column.
 */
export class UnsupportedQueryError extends WaybillSealError {
  readonly model: string;
  readonly column: string;
  constructor(model: string, column: string, reason: string) {
    super('UNSUPPORTED_QUERY', `${model}.${column}: ${reason}`);
    this.model = model;
    this.column = column;
  }
}

/**
 * A shared store (quota counters, audit table, migration queue) cannot be used: the database is
 * unreachable, a query failed, or the stored state does not verify. `reason` is a stable code
 * (`store_unavailable`, `audit_chain_broken`); the message names the table, never a query or value.
 */
export class StoreError extends WaybillSealError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super('STORE', message);
    this.reason = reason;
  }
}

/**
 * A `waybill-seal/testing` helper (test keys, test sealer) was used where `NODE_ENV` is `production`.
 * Test keys are derived from a seed anyone can read: they must never seal real data.
 */
export class TestKitInProductionError extends WaybillSealError {
  constructor(what: string) {
    super('TEST_KIT_IN_PRODUCTION', `${what} is from waybill-seal/testing: its keys come from a public seed and it refuses to run with NODE_ENV=production`);
  }
}
