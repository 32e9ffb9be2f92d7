// The staff console: plain DOM, no framework. Values from the server are only ever put into the
// page with textContent (never innerHTML), so a stored value cannot become markup.
const PURPOSE = 'customer-service';
const $ = (id) => document.getElementById(id);

/** The caller's headers: who asks, and the ticket when one is given. */
function accessHeaders(extra = {}) {
  const h = { 'x-principal': $('principal').value.trim(), 'x-purpose': PURPOSE, ...extra };
  const ticket = $('ticket').value.trim();
  if (ticket !== '') h['x-ticket'] = ticket;
  return h;
}

async function call(path, init = {}) {
  const res = await fetch(path, { ...init, cache: 'no-store' });
  let body;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** A refused request as one sentence a person can act on (the server sends codes, never values). */
export function explain(status, body = {}) {
  if (status === 429) return 'Quota spent: you have used all the searches or opens this hour allows. Wait, or ask a supervisor.';
  if (status === 401) return 'Enter your principal (staff id) first.';
  if (status === 403 && body.reason === 'missing_ticket') return 'A ticket number is required: enter the ticket you are working on.';
  if (status === 403) return `Access denied (${body.reason ?? 'policy'}).`;
  if (status === 404) return 'No such waybill.';
  if (status === 409) return 'This record failed its integrity check and is not shown.';
  if (status === 410) return 'This record was shredded.';
  if (status === 400) return `Invalid request: ${body.field ?? ''} ${body.reason ?? ''}`.trim() + '.';
  if (status === 503) return 'The audit log is unavailable: nothing can be searched or opened until it is.';
  return `Request failed (HTTP ${status}).`;
}

function say(id, text, kind = 'error') {
  const el = $(id);
  el.textContent = text;
  el.dataset.kind = kind;
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  row.append(td);
  return td;
}

async function refreshQuota() {
  const principal = $('principal').value.trim();
  if (principal === '') return;
  const { status, body } = await call('/console/quota', { headers: { 'x-principal': principal } });
  if (status !== 200) return say('quota', `Quota: ${explain(status, body)}`);
  const parts = [...body.search.map((q) => `searches ${q.used}/${q.limit} per ${q.window}`), ...body.open.map((q) => `opens ${q.used}/${q.limit} per ${q.window}`)];
  say('quota', `Quota: ${parts.join(', ')}`, 'info');
}

async function search(event) {
  event.preventDefault();
  const mode = document.querySelector('input[name=mode]:checked').value;
  const q = new URLSearchParams();
  if (mode === 'mobile') q.set('mobile', $('mobile').value.trim());
  else {
    q.set('last4', $('last4').value.trim());
    q.set('district', $('district').value.trim());
  }
  const { status, body } = await call(`/waybills?${q}`, { headers: accessHeaders() });
  const table = $('results');
  const tbody = table.querySelector('tbody');
  tbody.replaceChildren();
  $('detail').hidden = true;
  if (status !== 200) {
    table.hidden = true;
    say('message', explain(status, body));
  } else {
    say('message', body.count === 0 ? 'No waybill found.' : `${body.count} waybill(s) found.`, 'info');
    table.hidden = body.count === 0;
    for (const r of body.results) {
      const row = document.createElement('tr');
      row.dataset.waybill = r.waybillNo;
      cell(row, r.waybillNo);
      cell(row, r.receiver?.name);
      cell(row, r.receiver?.mobile);
      const a = r.receiver?.address ?? {};
      cell(row, [a.province, a.city, a.district, a.detail].filter(Boolean).join(' '));
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Details';
      button.addEventListener('click', () => showDetail(r.waybillNo));
      cell(row, '').append(button);
      tbody.append(row);
    }
  }
  await refreshQuota();
}

function showDetail(no) {
  $('detail').hidden = false;
  $('detail').dataset.waybill = no;
  $('detail-no').textContent = no;
  // The label is drawn from the label masks on the server; no key is used.
  $('label').src = `/waybills/${encodeURIComponent(no)}/label`;
  $('opened').hidden = true;
  $('opened').replaceChildren();
  say('message', '', 'info');
}

async function openForTicket(event) {
  event.preventDefault();
  const no = $('detail').dataset.waybill;
  const { status, body } = await call(`/waybills/${encodeURIComponent(no)}/open`, {
    method: 'POST',
    headers: { ...accessHeaders({ 'x-reason': $('reason').value }), 'content-type': 'application/json' },
    body: JSON.stringify({ fields: ['receiver.mobile'] }),
  });
  const dl = $('opened');
  dl.replaceChildren();
  if (status !== 200) {
    dl.hidden = true;
    say('message', explain(status, body));
  } else {
    for (const path of body.opened) {
      const value = path.split('.').reduce((v, k) => (v == null ? undefined : v[k]), body.record);
      const dt = document.createElement('dt');
      dt.textContent = path;
      const dd = document.createElement('dd');
      dd.textContent = typeof value === 'string' ? value : '';
      dl.append(dt, dd);
    }
    dl.hidden = false;
    say('message', `Opened for ticket ${$('ticket').value.trim()}; this access is in the audit log.`, 'info');
  }
  await refreshQuota();
}

async function showAudit() {
  const [verify, recent] = await Promise.all([
    call('/audit/verify'),
    call('/console/audit?limit=20', { headers: { 'x-principal': $('principal').value.trim() } }),
  ]);
  if (verify.status !== 200) say('audit-status', explain(verify.status, verify.body));
  else if (verify.body.ok && verify.body.checkpoint) say('audit-status', `Audit chain verified up to checkpoint ${verify.body.checkpoint.seq} (${verify.body.checkpoint.time}): ${verify.body.lines} line(s).`, 'ok');
  // Without checkpoints, rows cut off the end of the chain cannot be seen: "intact" claims only what was checked.
  else if (verify.body.ok) say('audit-status', `Audit chain verified: ${verify.body.lines} line(s), intact.`, 'ok');
  else say('audit-status', `Audit chain BROKEN at line ${verify.body.line} (${verify.body.reason}).`);
  const table = $('audit');
  const tbody = table.querySelector('tbody');
  tbody.replaceChildren();
  if (recent.status !== 200) return void (table.hidden = true);
  for (const e of recent.body.events) {
    const row = document.createElement('tr');
    cell(row, e.time);
    cell(row, e.type);
    cell(row, e.principal);
    cell(row, e.purpose);
    cell(row, e.recordId ?? e.index ?? '');
    cell(row, e.outcome ?? e.reason ?? '');
    cell(row, Object.entries(e.evidence ?? {}).map(([k, v]) => `${k}=${v}`).join(' '));
    tbody.append(row);
  }
  table.hidden = false;
}

function switchMode() {
  const mobile = document.querySelector('input[name=mode]:checked').value === 'mobile';
  $('mobile-field').hidden = !mobile;
  $('last4-field').hidden = mobile;
  $('district-field').hidden = mobile;
}

$('search').addEventListener('submit', search);
$('open').addEventListener('submit', openForTicket);
$('audit-button').addEventListener('click', showAudit);
$('principal').addEventListener('change', refreshQuota);
for (const r of document.querySelectorAll('input[name=mode]')) r.addEventListener('change', switchMode);
refreshQuota();
