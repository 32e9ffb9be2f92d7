/**
 * Issue 18, finding 7: on SIGTERM the backend example drains requests in flight instead of
 * resetting them, within a grace period (`Listening.close(graceMs)`, what its SIGTERM handler runs).
 */
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../examples/backend/app.js';
import { listen } from '../../examples/backend/server.js';

/** A backend whose every answer takes `ms` (never, for Infinity). */
const slow = (ms: number) =>
  ({
    handle: (_req: unknown, res: { end(s: string): void }) => {
      if (Number.isFinite(ms)) setTimeout(() => res.end('done'), ms);
    },
  }) as unknown as Backend;

const get = (url: string, agent?: Agent) =>
  new Promise<{ status: number; body: string; connection: string | undefined }>((ok, fail) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => ok({ status: res.statusCode!, body, connection: res.headers.connection }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });

describe('backend example: graceful shutdown', () => {
  it('a request in flight when shutdown starts is answered, not reset; then the port is closed', async () => {
    const http = await listen(slow(400));
    const agent = new Agent({ keepAlive: true });
    const inflight = get(`${http.url}/x`, agent);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const closed = http.close(5_000);
    expect(await inflight).toEqual({ status: 200, body: 'done', connection: 'close' });
    await closed;
    expect(Date.now() - t0).toBeLessThan(4_000); // drained, not cut off at the grace period
    await expect(get(`${http.url}/x`)).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });

  it('idle keep-alive connections do not hold shutdown up', async () => {
    const http = await listen(slow(0));
    const agent = new Agent({ keepAlive: true });
    expect((await get(`${http.url}/x`, agent)).status).toBe(200);
    const t0 = Date.now();
    await http.close(5_000);
    expect(Date.now() - t0).toBeLessThan(2_000);
    agent.destroy();
  });

  it('a request still running after the grace period is cut off, and shutdown completes', async () => {
    const http = await listen(slow(Infinity));
    const stuck = get(`${http.url}/x`).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await http.close(300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await stuck).toBeInstanceOf(Error);
  });
});
