/**
 * Signed audit checkpoints: the chain head `{ seq, mac }` (seq is also the count of events, the
 * chain starting at 1) and the time, MACed with a key derived from the audit chain key, written
 * to a second place the application names (a file, another database, a log service). A chain
 * alone cannot show rows cut off its end; against the newest checkpoint it can: the log must
 * still hold entry `seq` with that MAC (`VerifyOptions.checkpoint`).
 *
 * A checkpoint line is `{"v":"wsc1","log":"<name>","seq":N,"mac":"<line mac>","time":"<ISO>","tag":"<mac>"}`
 * where `tag` = HMAC-SHA256(checkpoint key, the line's bytes before `,"tag":`) and the checkpoint
 * key = HMAC-SHA256(chain key, "waybill-seal/audit-checkpoint/v1"). Whoever can write the
 * checkpoint place but holds no audit secret cannot forge a later checkpoint.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { constantTimeEqual, toBase64Url, utf8 } from '../crypto/bytes.js';
import { KeyError } from '../errors.js';
import { isPlainObject } from '../schema/walk.js';
import type { ChainHead } from './audit.js';

export const CHECKPOINT_VERSION = 'wsc1';

export interface AuditCheckpoint {
  readonly v: typeof CHECKPOINT_VERSION;
  /** Which chain (e.g. the audit table's name): one checkpoint place may serve several. */
  readonly log: string;
  /** The head's sequence number: the number of events in the chain. */
  readonly seq: number;
  /** The head line's MAC. */
  readonly mac: string;
  readonly time: string;
  readonly tag: string;
}

/** The second place checkpoints go. `write` resolves once the checkpoint is stored. */
export interface CheckpointSink {
  write(checkpoint: AuditCheckpoint): Promise<void>;
}

/** Keeps checkpoints in memory (tests), or adapts a callback: `{ write: async (c) => send(c) }`. */
export class MemoryCheckpointSink implements CheckpointSink {
  readonly checkpoints: AuditCheckpoint[] = [];
  async write(checkpoint: AuditCheckpoint): Promise<void> {
    this.checkpoints.push(checkpoint);
  }
}

/** The checkpoint key belonging to an audit chain key. */
export function deriveCheckpointKey(chainKey: Uint8Array): Uint8Array {
  if (!(chainKey instanceof Uint8Array) || chainKey.length !== 32) throw new KeyError('bad_key', 'audit chain key must be 256 bits');
  return hmac(sha256, chainKey, utf8('waybill-seal/audit-checkpoint/v1'));
}

const body = (c: Omit<AuditCheckpoint, 'tag'>): string =>
  JSON.stringify({ v: CHECKPOINT_VERSION, log: c.log, seq: c.seq, mac: c.mac, time: c.time });
const tagOf = (key: Uint8Array, c: Omit<AuditCheckpoint, 'tag'>): string => toBase64Url(hmac(sha256, key, utf8(body(c))));

/** A checkpoint of `head` in chain `log`, tagged with the checkpoint key. */
export function signCheckpoint(checkpointKey: Uint8Array, log: string, head: ChainHead, time: Date): AuditCheckpoint {
  const c = { v: CHECKPOINT_VERSION, log, seq: head.seq, mac: head.mac, time: time.toISOString() } as const;
  return { ...c, tag: tagOf(checkpointKey, c) };
}

/** One checkpoint as a line of JSON (the field order of the tagged bytes). */
export const checkpointLine = (c: AuditCheckpoint): string => `${body(c).slice(0, -1)},"tag":"${c.tag}"}`;

/** Whether `value` (a parsed line or a row) is a checkpoint whose tag verifies. */
export function checkCheckpoint(checkpointKey: Uint8Array, value: unknown): value is AuditCheckpoint {
  if (!isPlainObject(value) || value['v'] !== CHECKPOINT_VERSION) return false;
  const { log, seq, mac, time, tag } = value;
  if (typeof log !== 'string' || !Number.isSafeInteger(seq) || (seq as number) < 0) return false;
  if (typeof mac !== 'string' || typeof time !== 'string' || typeof tag !== 'string') return false;
  const expected = tagOf(checkpointKey, { v: CHECKPOINT_VERSION, log, seq: seq as number, mac, time });
  return constantTimeEqual(utf8(expected), utf8(tag));
}

export type CheckpointSelection =
  | { readonly ok: true; /** The newest checkpoint of the log (none: nothing recorded yet). */ readonly newest?: AuditCheckpoint; readonly count: number }
  | { readonly ok: false; /** 1-based position of the first checkpoint whose tag does not verify. */ readonly index: number; readonly message: string };

/**
 * Checks every checkpoint (any forged or altered one is reported: the checkpoint place was written
 * by someone without the key) and picks the newest of chain `log`.
 */
export function newestCheckpoint(checkpointKey: Uint8Array, log: string, checkpoints: Iterable<unknown>): CheckpointSelection {
  let newest: AuditCheckpoint | undefined;
  let index = 0;
  let count = 0;
  for (const c of checkpoints) {
    index++;
    if (!checkCheckpoint(checkpointKey, c)) return { ok: false, index, message: `checkpoint ${index} does not verify (altered, forged, or another key)` };
    if (c.log !== log) continue;
    count++;
    if (!newest || c.seq > newest.seq) newest = c;
  }
  return newest ? { ok: true, newest, count } : { ok: true, count };
}
