/**
 * The staff console (examples/backend/console) driven in headless Chromium (Debian's, through
 * playwright-core): search by full mobile and by last 4 + district, masked results, the label
 * preview, open with and without a ticket, a spent search quota, the audit view. Every response the
 * page receives and the page's HTML are scanned for the waybills' plaintext: none reaches the page
 * until an open, and an open reveals only the field it opened.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLocalKeyMaterial, LocalKeyring, waybillPolicy, type PlainRecord, type WaybillSchema } from 'waybill-seal';
import { describeFindings, findPlaintext } from 'waybill-seal/testing';
import { createBackend, type Backend } from '../../examples/backend/app.js';
import { fromPglite, type Database } from '../../examples/backend/db.js';
import { listen, type Listening } from '../../examples/backend/server.js';
import { CHROMIUM_FLAGS, numberedWaybill } from './fixtures.js';

type Waybill = PlainRecord<WaybillSchema>;

const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';
const SEARCHES_PER_HOUR = 4;

const sample = (n: number): Waybill => numberedWaybill(n, 'CS');

describe('the staff console in headless Chromium', () => {
  const records = [sample(1), sample(2), sample(3)];
  const [first, second] = records as [Waybill, Waybill, Waybill];
  let db: Database;
  let backend: Backend;
  let http: Listening;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  /** Every response body the page received, in order. */
  const seen: string[] = [];
  let pending: Promise<void>[] = [];

  beforeAll(async () => {
    db = fromPglite(await PGlite.create());
    // A small search quota, so that the test can spend it.
    const policy = { ...waybillPolicy, searchQuotas: [{ window: '1h', max: SEARCHES_PER_HOUR }] };
    backend = await createBackend({ db, keyring: new LocalKeyring(generateLocalKeyMaterial()), policy });
    for (const w of records) expect((await backend.store(w)).stored).toBe(true);
    http = await listen(backend);
    profile = await mkdtemp(join(tmpdir(), 'ws-console-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS] });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('response', (r) => {
      pending.push(r.text().then((t) => void seen.push(t), () => undefined));
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await http?.close();
    backend?.close();
    await db?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  /** The page's HTML and every response so far. */
  async function everything(): Promise<string[]> {
    await Promise.all(pending);
    pending = [];
    return [await page.content(), ...seen];
  }

  async function expectNoPlaintext(): Promise<void> {
    const found = findPlaintext(await everything(), records);
    expect(found, describeFindings(found)).toEqual([]);
  }

  async function searchMobile(mobile: string): Promise<void> {
    await page.fill('#mobile', mobile);
    await page.click('#search-button');
  }

  it('serves the page with a strict content security policy', async () => {
    const res = await page.goto(`${http.url}/`);
    expect(res?.status()).toBe(200);
    expect(page.url()).toBe(`${http.url}/console/`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect.poll(() => page.textContent('#quota')).toBe(`Quota: searches 0/${SEARCHES_PER_HOUR} per 1h, opens 0/200 per 1h`);
  }, 60_000);

  it('refuses a search without a ticket, with a message that says so', async () => {
    await searchMobile(first.receiver.mobile!);
    await expect.poll(() => page.textContent('#message')).toBe('A ticket number is required: enter the ticket you are working on.');
    expect(await page.isHidden('#results')).toBe(true);
    await expectNoPlaintext();
  }, 60_000);

  it('searches by full mobile: masked results only, the search counted against the quota', async () => {
    await page.fill('#ticket', 'CS-2025-0001');
    await searchMobile(first.receiver.mobile!);
    await page.waitForSelector(`#results tr[data-waybill="${first.waybillNo}"]`);
    const cells = await page.$$eval(`#results tr[data-waybill="${first.waybillNo}"] td`, (tds) => tds.map((td) => td.textContent));
    expect(cells.slice(0, 3)).toEqual([first.waybillNo, '欧***', `139****${first.receiver.mobile!.slice(-4)}`]);
    expect(await page.$$eval('#results tbody tr', (rows) => rows.length)).toBe(1);
    // The search refused for its missing ticket was not charged; this one was.
    await expect.poll(() => page.textContent('#quota')).toBe(`Quota: searches 1/${SEARCHES_PER_HOUR} per 1h, opens 0/200 per 1h`);
    await expectNoPlaintext();
  }, 60_000);

  it('searches by last 4 digits and district', async () => {
    await page.check('input[name=mode][value=last4]');
    await page.fill('#last4', second.receiver.mobile!.slice(-4));
    await page.fill('#district', '西湖区');
    await page.click('#search-button');
    await page.waitForSelector(`#results tr[data-waybill="${second.waybillNo}"]`);
    expect(await page.$$eval('#results tbody tr', (rows) => rows.map((r) => r.getAttribute('data-waybill')))).toEqual([second.waybillNo]);
    await expectNoPlaintext();
  }, 60_000);

  it('shows the label preview, drawn from the label masks', async () => {
    await page.click(`#results tr[data-waybill="${second.waybillNo}"] button`);
    await page.waitForFunction("document.getElementById('label').complete && document.getElementById('label').naturalWidth > 0");
    expect(seen.some((t) => t.startsWith('<?xml') || t.startsWith('<svg'))).toBe(true);
    await expectNoPlaintext();
  }, 60_000);

  it('does not open without a ticket', async () => {
    await page.fill('#ticket', '');
    await page.click('#open-button');
    await expect.poll(() => page.textContent('#message')).toBe('A ticket number is required: enter the ticket you are working on.');
    expect(await page.isHidden('#opened')).toBe(true);
    await expectNoPlaintext();
  }, 60_000);

  it('opens the receiver mobile for a ticket, and nothing else', async () => {
    await page.fill('#ticket', 'CS-2025-0002');
    await page.selectOption('#reason', 'customer-callback');
    await page.click('#open-button');
    await page.waitForSelector('#opened dd');
    expect(await page.textContent('#opened dd')).toBe(second.receiver.mobile);
    const found = findPlaintext(await everything(), records);
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map((f) => `${f.record}:${f.field}`))).toEqual(new Set(['1:receiver.mobile']));
    await expect.poll(() => page.textContent('#quota')).toMatch(/opens 1\/200 per 1h/);
  }, 60_000);

  it('refuses a free-text reason (where an agent would type the phone number into the audit log)', async () => {
    const res = await fetch(`${http.url}/waybills/${second.waybillNo}/open`, {
      method: 'POST',
      headers: { 'x-principal': 'cs-agent-1', 'x-purpose': 'customer-service', 'x-ticket': 'CS-2025-0003', 'x-reason': second.receiver.mobile! },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request', field: 'x-reason', reason: 'invalid_format' });
    const events = await backend.auditLog.recent(50);
    expect(findPlaintext(events, records)).toEqual([]);
  });

  it('says so when the search quota is spent', async () => {
    await page.check('input[name=mode][value=mobile]');
    for (let i = 0; i < SEARCHES_PER_HOUR; i++) {
      await searchMobile(first.receiver.mobile!);
      await expect.poll(() => page.textContent('#message')).not.toBe('');
      if ((await page.textContent('#message'))?.startsWith('Quota spent')) break;
      await page.$eval('#message', (el) => void (el.textContent = ''));
    }
    await expect.poll(() => page.textContent('#message')).toBe('Quota spent: you have used all the searches or opens this hour allows. Wait, or ask a supervisor.');
    expect(await page.isHidden('#results')).toBe(true);
    await expect.poll(() => page.textContent('#quota')).toContain(`searches ${SEARCHES_PER_HOUR}/${SEARCHES_PER_HOUR} per 1h`);
  }, 60_000);

  it('shows the audit log, its chain verified, with the ticket and reason of the open and no values', async () => {
    await page.click('#audit-button');
    await expect.poll(() => page.textContent('#audit-status')).toMatch(/^Audit chain verified: \d+ line\(s\), intact\.$/);
    const rows = await page.$$eval('#audit tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.some((r) => r[1] === 'access' && r[4] === second.waybillNo && r[5] === 'opened' && r[6]!.includes('ticket=CS-2025-0002') && r[6]!.includes('reason=customer-callback'))).toBe(true);
    expect(rows.some((r) => r[1] === 'alert' && r[5] === 'quota_exceeded')).toBe(true);
    expect(rows.some((r) => r[1] === 'search' && r[6]!.includes('ticket=CS-2025-0001'))).toBe(true);
    // The audit responses themselves hold no plaintext (the one open above is the only finding).
    const found = findPlaintext(await everything(), records);
    expect(new Set(found.map((f) => `${f.record}:${f.field}`))).toEqual(new Set(['1:receiver.mobile']));
  }, 60_000);
});
