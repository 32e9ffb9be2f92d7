import { Console } from 'node:console';
import { PassThrough } from 'node:stream';
import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Redacted, waybill, type OpenedRecord } from '../../src/index.js';
import { freshSealer, sampleWaybill } from '../helpers.js';

const SECRETS = ['张三', '13812345678', '11010519491231002X', '科技园路1号3栋2单元501室', '欧阳娜娜', '139-8765-4321', '文一西路969号5-2-301', '请放门口', '13800138000'];

/** console.log exactly as Node formats it, into a string. */
function consoleOutput(...args: unknown[]): string {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const c = new Console({ stdout: stream, stderr: stream, colorMode: false });
  c.log(...args);
  c.error(...args);
  c.info('%s %o %O %j', ...args, ...args, ...args, ...args);
  c.dir(args[0], { depth: Infinity, showHidden: true });
  c.table([args[0]]);
  return Buffer.concat(chunks).toString('utf8');
}

async function openedRecord(): Promise<OpenedRecord<typeof waybill>> {
  const { sealer } = freshSealer();
  const sealed = await sealer.seal(waybill, sampleWaybill());
  return (await sealer.open(waybill, sealed, { principal: 't', purpose: 't' })).record;
}

const noSecret = (text: string) => {
  for (const s of SECRETS) expect(text).not.toContain(s);
};

describe('Redacted values print as [redacted] on every path', () => {
  const v = new Redacted('13812345678');

  it('String, template literals, concatenation, toString, valueOf paths', () => {
    expect(String(v)).toBe('[redacted]');
    expect(`${v}`).toBe('[redacted]');
    expect('tel: ' + v).toBe('tel: [redacted]');
    expect(v.toString()).toBe('[redacted]');
    expect([v, v].join(',')).toBe('[redacted],[redacted]');
    expect(Object.prototype.toString.call(v)).toBe('[object Redacted]');
    // Numeric coercion does not leak digits either.
    expect(Number.isNaN(+(v as unknown as number))).toBe(true);
  });

  it('JSON.stringify of the value and of a whole opened record', async () => {
    expect(JSON.stringify(v)).toBe('"[redacted]"');
    expect(JSON.stringify({ mobile: v })).toBe('{"mobile":"[redacted]"}');
    const record = await openedRecord();
    const json = JSON.stringify(record);
    noSecret(json);
    expect(JSON.parse(json).receiver.name).toBe('[redacted]');
    // plain fields are still there
    expect(JSON.parse(json).receiver.address.district).toBe('西湖区');
  });

  it('util.inspect, util.format and console.log / error / dir / table', async () => {
    expect(inspect(v)).toBe('[redacted]');
    expect(inspect(v, { showHidden: true, depth: Infinity, customInspect: true })).toBe('[redacted]');
    expect(format('%s|%o|%O|%j|%d', v, v, v, v, v)).not.toContain('1381234');
    const record = await openedRecord();
    noSecret(inspect(record, { depth: Infinity, showHidden: true }));
    noSecret(format('%s %o %O %j', record, record, record, record));
    const out = consoleOutput(record, v);
    noSecret(out);
    expect(out).toContain('[redacted]');
  });

  it('error messages, causes and stacks', async () => {
    const record = await openedRecord();
    const err = new Error(`could not call ${record.receiver.mobile} for ${record.receiver.name}`, { cause: record });
    expect(err.message).toBe('could not call [redacted] for [redacted]');
    noSecret(String(err));
    noSecret(err.stack ?? '');
    noSecret(inspect(err, { depth: Infinity }));
    noSecret(consoleOutput(err));
  });

  it('structural copies see nothing: keys, spread, entries, structuredClone', () => {
    expect(Object.keys(v)).toEqual([]);
    expect(Object.getOwnPropertyNames(v)).toEqual([]);
    expect({ ...v }).toEqual({});
    expect(JSON.stringify(structuredClone(v))).toBe('{}');
    expect(Object.isFrozen(v)).toBe(true);
  });

  it('reveal() is the way to the value, for strings and virtual numbers', async () => {
    expect(v.reveal()).toBe('13812345678');
    const record = await openedRecord();
    const input = sampleWaybill();
    expect(record.receiver.name).toBeInstanceOf(Redacted);
    expect((record.receiver.name as Redacted).reveal()).toBe(input.receiver.name);
    expect((record.sender.idNumber as Redacted).reveal()).toBe(input.sender.idNumber);
    expect((record.receiver.virtualNumber as Redacted<{ main: string; ext: string }>).reveal()).toEqual(input.receiver.virtualNumber);
    noSecret(inspect(record.receiver.virtualNumber));
  });

  it('reveal: "plain" returns plain values (explicit opt-in)', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const { record } = await sealer.open(waybill, sealed, { principal: 't', purpose: 't', reveal: 'plain' });
    expect(record).toEqual(sampleWaybill());
    await expect(sealer.open(waybill, sealed, { principal: 't', purpose: 't', reveal: 'clear' as never })).rejects.toThrow(/reveal/);
  });

  it('fields that were not opened hold their screen masks (plain strings)', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const { record, opened } = await sealer.open(waybill, sealed, { principal: 't', purpose: 't', fields: ['receiver.mobile'] });
    expect(opened).toEqual(['receiver.mobile']);
    expect(record.receiver.mobile).toBeInstanceOf(Redacted);
    expect(record.sender.mobile).toBe('138****5678');
  });
});
