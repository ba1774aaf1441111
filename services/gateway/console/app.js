// cadence console — plain JS, no build step. Signs in with a bearer token (kept in
// sessionStorage for this tab), then: a rep sees call-now alerts live (Server-Sent Events read
// with fetch, so the token goes in the Authorization header, resuming with Last-Event-ID), the
// day's queue and a lead's history; a manager sees the team's numbers (stats.js).
// Everything from the server is inserted as text (never as HTML).
'use strict';

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('cadence.token') || '';
let streamAbort = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else if (k === 'onclick') e.addEventListener('click', v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: 'Bearer ' + token } });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  return { status: res.status, body };
}

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

function fmtDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleDateString();
}

// ---------------------------------------------------------------- sign in / out

async function signIn(t) {
  token = t;
  const me = await api('/v1/me');
  if (me.status !== 200) {
    token = '';
    $('sign-in-error').textContent = me.status === 401 ? 'That token is not valid.' : 'Sign-in failed (' + me.status + ').';
    return;
  }
  sessionStorage.setItem('cadence.token', token);
  $('sign-in').hidden = true;
  $('sign-out').hidden = false;
  $('lead-panel').hidden = false;
  const role = me.body.role;
  $('who').textContent = role === 'rep' ? 'Signed in as ' + me.body.rep_id : 'Signed in as ' + role;
  document.body.dataset.role = role;
  if (role === 'rep') {
    $('rep-view').hidden = false;
    loadQueue();
    streamAlerts();
  } else if (role === 'manager') {
    $('manager-view').hidden = false;
    window.cadenceStats.show(); // stats.js
  }
}

function signOut() {
  sessionStorage.removeItem('cadence.token');
  token = '';
  if (streamAbort) streamAbort.abort();
  location.reload();
}

// ---------------------------------------------------------------- alerts (SSE over fetch)

const REASONS = {
  former_no_revisit: 'Former “no” is back',
  warm_inbound: 'Warm inbound',
  hot_page_active: 'Active on hot pages',
};

function renderAlert(a, streamId) {
  const lead = a.lead || {};
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(' ') || a.lead_id;
  const li = el('li', { class: 'alert', 'data-alert-id': a.alert_id, 'data-stream-id': streamId,
                        'data-received-ms': String(Date.now()) });
  li.append(el('p', { class: 'reason' }, REASONS[a.reason] || a.reason));
  li.append(el('h3', {}, name, lead.company ? ' — ' + lead.company : ''));
  if (a.suggested_opener) li.append(el('p', { class: 'opener' }, '“' + a.suggested_opener + '”'));
  if (a.no) {
    li.append(el('p', { class: 'no' }, 'Said no on ' + fmtDate(a.no.at) + (a.no.reason ? ': ' + a.no.reason : '')));
  }
  const trig = a.trigger || {};
  li.append(el('p', { class: 'meta' }, 'Viewed ', trig.url || 'a hot page', ' at ', fmtTime(trig.occurred_at),
               lead.phone ? ' · ' + lead.phone : '', lead.timezone ? ' · ' + lead.timezone : ''));
  li.append(el('button', { class: 'linkish', type: 'button', onclick: () => showLead(a.lead_id) }, 'History of ' + a.lead_id));
  return li;
}

function onAlert(id, data) {
  let a;
  try { a = JSON.parse(data); } catch (e) { return; }
  if (document.querySelector('[data-alert-id="' + CSS.escape(a.alert_id) + '"]')) return;
  $('no-alerts').hidden = true;
  $('alerts').prepend(renderAlert(a, id));
}

async function streamAlerts() {
  let lastId = null;
  streamAbort = new AbortController();
  for (;;) {
    try {
      const headers = { Authorization: 'Bearer ' + token, Accept: 'text/event-stream' };
      if (lastId) headers['Last-Event-ID'] = lastId;
      const res = await fetch('/v1/alerts/stream', { headers, signal: streamAbort.signal, cache: 'no-store' });
      if (res.status === 401 || res.status === 403) { signOut(); return; }
      if (res.status !== 200) throw new Error('status ' + res.status);
      $('stream-state').textContent = 'live';
      $('stream-state').classList.add('live');
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let id = null, data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id:')) id = line.slice(3).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (id) lastId = id;
          if (data.length) onAlert(id, data.join('\n'));
        }
      }
    } catch (e) {
      if (streamAbort.signal.aborted) return;
    }
    $('stream-state').textContent = 'reconnecting…';
    $('stream-state').classList.remove('live');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---------------------------------------------------------------- queue and lead history

const OBJECTIVES = { first_time_call: 'First-time call', follow_up: 'Follow-up', re_evaluate: 'Re-evaluate' };

async function loadQueue() {
  const { status, body } = await api('/v1/queue');
  const tbody = $('queue').querySelector('tbody');
  tbody.replaceChildren();
  if (status !== 200) { $('no-queue').hidden = false; $('no-queue').textContent = 'Queue unavailable (' + status + ').'; return; }
  $('no-queue').hidden = body.tasks.length > 0;
  for (const t of body.tasks) {
    const task = t.task || {};
    const due = new Date(t.due_ms);
    const what = [task.channel, OBJECTIVES[task.objective] || task.objective,
                  task.ftc_attempt ? '#' + task.ftc_attempt : '', task.voicemail ? '(leave voicemail)' : '']
      .filter(Boolean).join(' ');
    const notes = [task.opener, task.suggestion, ...(task.warnings || []).map((w) => '⚠ ' + w.message)]
      .filter(Boolean).join(' · ');
    tbody.append(el('tr', {},
      el('td', { class: t.overdue ? 'overdue' : '' }, due.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }), t.overdue ? ' (overdue)' : ''),
      el('td', {}, task.lead_id ? el('button', { class: 'linkish', type: 'button', onclick: () => showLead(task.lead_id) }, task.lead_id) : t.task_id),
      el('td', {}, what || t.task_id),
      el('td', {}, notes)));
  }
}

async function showLead(id) {
  $('lead-id').value = id;
  const box = $('lead');
  box.replaceChildren(el('p', { class: 'help' }, 'Loading…'));
  const { status, body } = await api('/v1/leads/' + encodeURIComponent(id));
  if (status !== 200) { box.replaceChildren(el('p', { class: 'error' }, status === 404 ? 'No such lead (or not yours).' : 'Error ' + status)); return; }
  const s = body.state || {};
  const name = [s.first_name, s.last_name].filter(Boolean).join(' ');
  const tl = el('ol', { class: 'timeline' });
  for (const e of body.timeline) {
    if (typeof e !== 'object' || e === null) { tl.append(el('li', {}, String(e))); continue; }
    const notes = Array.isArray(e.notes) ? e.notes.map((n) => (typeof n === 'string' ? n : JSON.stringify(n))).join('; ') : '';
    tl.append(el('li', {}, el('strong', {}, fmtTime(e.at)), ' ', e.event || '', e.status ? ' → ' + e.status : '', notes ? ' — ' + notes : ''));
  }
  box.replaceChildren(
    el('h3', {}, name || id, s.company ? ' — ' + s.company : ''),
    el('p', { class: 'meta' }, 'Status: ', s.status || '?', s.cadence ? ' · cadence ' + s.cadence : '',
       s.lead_type ? ' · ' + s.lead_type : '', s.rep_id ? ' · rep ' + s.rep_id : ''),
    el('h4', {}, 'History (newest first)'), tl);
  $('lead-panel').scrollIntoView({ block: 'nearest' });
}

// ---------------------------------------------------------------- wiring

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in-form').addEventListener('submit', (e) => { e.preventDefault(); $('sign-in-error').textContent = ''; signIn($('token').value.trim()); });
  $('sign-out').addEventListener('click', signOut);
  $('queue-refresh').addEventListener('click', loadQueue);
  $('lead-form').addEventListener('submit', (e) => { e.preventDefault(); showLead($('lead-id').value.trim()); });
  if (token) signIn(token);
});
