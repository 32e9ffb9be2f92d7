/**
 * The GCM message bound across real processes (issue 14 item 4; test/keys/message-bound.test.ts runs
 * instances in one process). The attack it stops: every process counted its own messages from 0, so
 * N processes sealing a month under one AES-GCM key put N times the cap of random 96-bit nonces under
 * it. Here 6 processes seal the same month on one key file (the JSON key store, its lock file the only
 * coordination) with a low cap: no data key is used by two processes, none exceeds the cap, and every
 * key used is in the file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createKeyFile } from '../../src/node.js';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const CAP = 12;
const PROCESSES = 6;
const RECORDS = 12;

describe.each(['aes-256-gcm', 'sm4-gcm'] as const)('%s: the message bound across processes sharing one key file', (suite) => {
  it(`${PROCESSES} processes sealing one month at once: no data key shared between processes, none above the cap`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-bound-'));
    const keys = join(dir, 'keys.json');
    await createKeyFile(keys, suite);
    const startAt = Date.now() + 3000;
    const outputs = await Promise.all(
      Array.from({ length: PROCESSES }, (_, w) =>
        run(process.execPath, ['--import', 'tsx', new URL('./fixtures/seal-worker.ts', import.meta.url).pathname, keys, suite, String(CAP), String(RECORDS), String(w), String(startAt)], { cwd: ROOT }),
      ),
    );
    const perProcess = outputs.map((o) => JSON.parse(o.stdout) as Record<string, number>);
    const owner = new Map<string, number>();
    let messages = 0;
    perProcess.forEach((used, w) => {
      for (const [id, n] of Object.entries(used)) {
        expect(owner.get(id), `${id} sealed under by processes ${owner.get(id)} and ${w}`).toBeUndefined();
        owner.set(id, w);
        expect(n, id).toBeLessThanOrEqual(CAP);
        messages += n;
      }
    });
    // The work was done (every process sealed all its records) and spread over many generations.
    expect(messages).toBeGreaterThan(PROCESSES * RECORDS);
    const stored = new Set((JSON.parse(await readFile(keys, 'utf8')) as { dataKeys: { id: string }[] }).dataKeys.map((r) => r.id));
    for (const id of owner.keys()) expect(stored.has(id), id).toBe(true);
  }, 120_000);
});
