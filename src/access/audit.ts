/**
 * Audit events and the tamper-evident line chain.
 *
 * Every open, denial, failure and quota alert is an event. Events carry who, why, which record,
 * which field paths and the outcome, never a value and never a mask of an opened field.
 *
 * A chained log line is `{"v":"wsa1","seq":N,"prev":"<mac of line N-1>","event":{…},"mac":"<mac>"}`
 * where `mac` = HMAC-SHA256(audit key, the line's bytes before `,"mac":`). The audit key is derived
 * from the keyring's `audit` secret, so someone who can edit the file but does not hold the
 * secret cannot re-chain it. A verifier finds the first altered (MAC), removed or reordered
 * (sequence) or spliced (prev) line. Cutting lines off the end is only visible against a head
 * recorded elsewhere (a checkpoint): see `VerifyOptions.checkpoint`.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { constantTimeEqual, fromBase64Url, toBase64Url, utf8 } from '../crypto/bytes.js';
import { KeyError } from '../errors.js';
import type { RetireEvent } from '../keys/index-keys.js';
import type { Keyring } from '../keys/keyring.js';
import { isPlainObject } from '../schema/walk.js';

/** A field that was asked for but not opened, and why (`field_not_granted`, `shredded`, `key_not_held`). */
export interface Withheld {
  readonly path: string;
  readonly reason: string;
}

export type AccessOutcome = 'opened' | 'partial' | 'denied' | 'failed';

export interface AccessEvent {
  readonly type: 'access';
  readonly time: string;
  readonly principal: string;
  readonly purpose: string;
  readonly schema: string;
  readonly schemaVersion: number;
  readonly recordId: string;
  /** Schema paths asked for, or `'*'` (every protected field). */
  readonly requested: '*' | readonly string[];
  /** Value paths decrypted (`receiver.mobile`, `items.0.name`). */
  readonly opened: readonly string[];
  readonly withheld: readonly Withheld[];
  readonly outcome: AccessOutcome;
  /** Stable reason code for `denied` and `failed`. */
  readonly reason?: string;
  /**
   * `'confirm'`: the `opened` fields were decrypted only to be compared with a search query inside
   * the library (never returned); `matched` is the result.
   */
  readonly mode?: 'confirm';
  readonly matched?: boolean;
  /** The request's context: scope evidence (ticket, route, outlet, approval). */
  readonly evidence: Readonly<Record<string, string>>;
}

export interface AlertEvent {
  readonly type: 'alert';
  readonly time: string;
  readonly principal: string;
  readonly purpose: string;
  readonly schema: string;
  /** The record whose open hit the quota (absent for a search query). */
  readonly recordId?: string;
  /** The index a refused search query named. */
  readonly index?: string;
  readonly reason: 'quota_exceeded' | 'export_budget_spent';
  /** Which counter, e.g. `principal/1h`, `purpose:deliver/1d`, `approval:EXP-7`, `search/1h`. */
  readonly quota: string;
  readonly limit: number;
  readonly used: number;
  readonly evidence: Readonly<Record<string, string>>;
}

export interface ShredEvent {
  readonly type: 'shred';
  readonly time: string;
  readonly dataKeyIds: readonly string[];
  /** What was asked: a key class and scope, or a cut-off month. */
  readonly request: Readonly<Record<string, string>>;
}

/**
 * `issued`: a query's tokens were computed (written before they are returned); `done`: the
 * result counts of a finder's query; `denied`: refused (reason code). Never the queried value and
 * never a token: only the index, the scope and counts.
 */
export type SearchOutcome = 'issued' | 'done' | 'denied';

export interface SearchEvent {
  readonly type: 'search';
  readonly time: string;
  readonly principal: string;
  readonly purpose: string;
  readonly schema: string;
  readonly index: string;
  readonly outcome: SearchOutcome;
  readonly reason?: string;
  /** Plain fields a result must match (`routing.destOutlet=HZ-017`); empty: every record the purpose may see. */
  readonly scope: readonly string[];
  /** Tokens issued (one per live key scope and index version in the search window). */
  readonly tokens?: number;
  /**
   * Outcome `done`: records whose token matched (in scope), those confirmed, and those that could
   * not be checked (tampered, shredded, withheld). Absent after `tokensFor`: the caller matched itself.
   */
  readonly candidates?: number;
  readonly matches?: number;
  readonly unverifiable?: number;
  readonly evidence: Readonly<Record<string, string>>;
}

export type { RetireEvent };

export type AuditEvent = AccessEvent | AlertEvent | ShredEvent | SearchEvent | RetireEvent;

/** Where events go. `write` resolves only once the event is durable: open returns no plaintext before. */
export interface AuditSink {
  write(event: AuditEvent): Promise<void>;
}

/** Keeps events in memory (tests; or forwarding to your own logger). */
export class MemoryAuditSink implements AuditSink {
  readonly events: AuditEvent[] = [];
  async write(event: AuditEvent): Promise<void> {
    this.events.push(event);
  }
}

// ---------------------------------------------------------------------------------------------
// The chain

export const AUDIT_LINE_VERSION = 'wsa1';
const MAC_MARK = ',"mac":"';
const MAC_LENGTH = 43; // 32 bytes, unpadded base64url

/** The position a chain has reached: the last line's sequence number and MAC (`0`, `''` for an empty log). */
export interface ChainHead {
  readonly seq: number;
  readonly mac: string;
}

export const GENESIS: ChainHead = { seq: 0, mac: '' };

/** Derives the chain key from an `audit` secret (domain-separated from other uses of the secret). */
export function deriveAuditKey(secret: Uint8Array): Uint8Array {
  if (!(secret instanceof Uint8Array) || secret.length < 16) throw new KeyError('bad_key', 'audit secret must be at least 128 bits');
  return hmac(sha256, secret, utf8('waybill-seal/audit-chain/v1'));
}

/** The chain key of a keyring (from `keyring.secret('audit')`). */
export async function auditKey(keyring: Keyring): Promise<Uint8Array> {
  if (!keyring.secret) throw new KeyError('no_secret', 'this keyring holds no named secrets (audit)');
  return deriveAuditKey(await keyring.secret('audit'));
}

const macOf = (key: Uint8Array, body: string): string => toBase64Url(hmac(sha256, key, utf8(body)));

/** Appends events as chained lines. Not safe for two writers on one log: give each its own file. */
export class AuditChain {
  readonly #key: Uint8Array;
  #head: ChainHead;

  constructor(key: Uint8Array, head: ChainHead = GENESIS) {
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new KeyError('bad_key', 'audit chain key must be 256 bits');
    this.#key = key;
    this.#head = head;
  }

  /** The next line for `event` (no trailing newline); the chain advances. */
  next(event: AuditEvent): string {
    const seq = this.#head.seq + 1;
    const body = `{"v":"${AUDIT_LINE_VERSION}","seq":${seq},"prev":"${this.#head.mac}","event":${JSON.stringify(event)}`;
    const mac = macOf(this.#key, body);
    this.#head = { seq, mac };
    return `${body}${MAC_MARK}${mac}"}`;
  }

  get head(): ChainHead {
    return this.#head;
  }
}

export interface AuditLine {
  readonly seq: number;
  readonly prev: string;
  readonly event: AuditEvent;
  readonly mac: string;
  /** The bytes the MAC covers. */
  readonly body: string;
}

/** Parses one chained line (structure only; no MAC check). Undefined if it is not one. */
export function parseAuditLine(line: string): AuditLine | undefined {
  const at = line.lastIndexOf(MAC_MARK);
  if (at < 0 || !line.endsWith('"}') || line.length !== at + MAC_MARK.length + MAC_LENGTH + 2) return undefined;
  const mac = line.slice(at + MAC_MARK.length, -2);
  if (!fromBase64Url(mac)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed) || parsed['v'] !== AUDIT_LINE_VERSION || parsed['mac'] !== mac) return undefined;
  const { seq, prev, event } = parsed;
  if (!Number.isSafeInteger(seq) || (seq as number) < 1 || typeof prev !== 'string' || !isPlainObject(event)) return undefined;
  return { seq: seq as number, prev, event: event as unknown as AuditEvent, mac, body: line.slice(0, at) };
}

/** Parses a line and checks its MAC (not its place in the chain). Undefined unless both hold. */
export function checkAuditLine(text: string, key: Uint8Array): AuditLine | undefined {
  const line = parseAuditLine(text);
  if (!line || !constantTimeEqual(utf8(macOf(key, line.body)), utf8(line.mac))) return undefined;
  return line;
}

export type AuditFailureReason = 'malformed' | 'altered' | 'out_of_sequence' | 'chain_broken' | 'truncated';

export type AuditVerification =
  | { readonly ok: true; readonly lines: number; readonly head: ChainHead }
  | {
      readonly ok: false;
      /** 1-based line number of the first bad line (for `truncated`: one past the last line). */
      readonly line: number;
      readonly reason: AuditFailureReason;
      readonly message: string;
      /** The last good position. */
      readonly head: ChainHead;
    };

export interface VerifyOptions {
  /** The head the log continues from (a rotated log's predecessor); default: an empty log. */
  readonly start?: ChainHead;
  /**
   * A head recorded elsewhere earlier (e.g. printed to a ticket, or stored in another system):
   * the log must still contain that line with that MAC. This detects lines cut off the end, which
   * the chain alone cannot.
   */
  readonly checkpoint?: ChainHead;
}

/** Verifies a log line by line (for streams); `verifyAuditLog` wraps it. */
export class AuditVerifier {
  readonly #key: Uint8Array;
  readonly #checkpoint: ChainHead | undefined;
  #head: ChainHead;
  #line = 0;
  #failure: Extract<AuditVerification, { ok: false }> | undefined;
  #checkpointSeen = false;

  constructor(key: Uint8Array, options: VerifyOptions = {}) {
    this.#key = key;
    this.#head = options.start ?? GENESIS;
    this.#checkpoint = options.checkpoint;
  }

  /** Feeds the next line (without its newline). Returns the failure, once one is found. */
  push(text: string): AuditVerification | undefined {
    if (this.#failure) return this.#failure;
    this.#line++;
    const fail = (reason: AuditFailureReason, message: string) =>
      (this.#failure = { ok: false, line: this.#line, reason, message: `line ${this.#line}: ${message}`, head: this.#head });
    const parsed = parseAuditLine(text);
    if (!parsed) return fail('malformed', 'not a chained audit line');
    const line = checkAuditLine(text, this.#key);
    if (!line) return fail('altered', 'MAC does not verify (line altered, or another key)');
    const expected = this.#head.seq + 1;
    if (line.seq !== expected) {
      return fail(
        'out_of_sequence',
        line.seq > expected
          ? `holds entry ${line.seq} where ${expected} was expected (entries removed or moved)`
          : `holds entry ${line.seq} again after ${expected - 1} (lines reordered or duplicated)`,
      );
    }
    if (line.prev !== this.#head.mac) return fail('chain_broken', 'does not follow the previous line (spliced from another log)');
    this.#head = { seq: line.seq, mac: line.mac };
    if (this.#checkpoint && line.seq === this.#checkpoint.seq) {
      if (line.mac !== this.#checkpoint.mac) return fail('altered', `entry ${line.seq} differs from the checkpoint`);
      this.#checkpointSeen = true;
    }
    return undefined;
  }

  finish(): AuditVerification {
    if (this.#failure) return this.#failure;
    if (this.#checkpoint && this.#checkpoint.seq > 0 && !this.#checkpointSeen && this.#head.seq < this.#checkpoint.seq) {
      return {
        ok: false,
        line: this.#line + 1,
        reason: 'truncated',
        message: `log ends at entry ${this.#head.seq}, the checkpoint names entry ${this.#checkpoint.seq} (lines cut off the end)`,
        head: this.#head,
      };
    }
    return { ok: true, lines: this.#line, head: this.#head };
  }
}

/**
 * Verifies a chained audit log: every line's MAC, sequence and link to the line before. `log` is
 * the file's text or its lines; a final newline is fine, empty lines elsewhere are not.
 */
export function verifyAuditLog(log: string | Iterable<string>, key: Uint8Array, options: VerifyOptions = {}): AuditVerification {
  const v = new AuditVerifier(key, options);
  const lines = typeof log === 'string' ? (log.endsWith('\n') ? log.slice(0, -1) : log).split('\n') : log;
  if (typeof log === 'string' && log === '') return v.finish();
  for (const line of lines) if (v.push(line)) break;
  return v.finish();
}
