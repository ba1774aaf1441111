// cadence console — plain JS, no build step, classic scripts sharing these helpers:
// session.js (the credential: the one file an OIDC login replaces), app.js (helpers, sign-in,
// the manager's measures), rep.js (the rep's day: alerts, queue, tasks, outcomes, lead search and
// pages). Everything from the server is inserted as text (never as HTML).
'use strict';

const $ = (id) => document.getElementById(id);

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

// GET by default; `opts.body` (an object) is sent as JSON with `opts.method` (POST).
async function api(path, opts) {
  const o = opts || {};
  const init = { headers: Session.headers(), method: o.method || (o.body ? 'POST' : 'GET') };
  if (o.body) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(o.body);
  }
  const res = await fetch(path, init);
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

// Signs in with credential `t`, or with the session's own when `t` is undefined (a reload).
async function signIn(t) {
  if (t !== undefined) Session.begin(t);
  const me = await api('/v1/me');
  if (me.status !== 200) {
    Session.end();
    $('sign-in-error').textContent = me.status === 401 ? 'That token is not valid.' : 'Sign-in failed (' + me.status + ').';
    return;
  }
  Session.keep();
  $('sign-in').hidden = true;
  $('sign-out').hidden = false;
  $('lead-panel').hidden = false;
  const role = me.body.role;
  $('who').textContent = role === 'rep' ? 'Signed in as ' + me.body.rep_id : 'Signed in as ' + role;
  document.body.dataset.role = role;
  if (role === 'rep') {
    $('rep-view').hidden = false;
    Rep.start(me.body);
  } else if (role === 'manager') {
    $('manager-view').hidden = false;
    loadStats();
  }
}

function signOut() {
  Session.end();
  Rep.stop();
  location.reload();
}

// ---------------------------------------------------------------- manager statistics

function pct(x) { return (100 * x).toFixed(1) + '%'; }

function drawChart(rows) {
  const box = $('chart');
  box.replaceChildren();
  if (!rows.length) { box.append(el('p', { class: 'empty' }, 'No attempts recorded yet.')); return; }
  const NS = 'http://www.w3.org/2000/svg';
  const W = 720, H = 260, L = 44, B = 40, T = 12;
  const types = [...new Set(rows.map((r) => r.lead_type))].sort();
  const colors = ['#0b5cad', '#c2410c', '#1a7f37', '#6d28d9'];
  const groups = [...new Set(rows.map((r) => r.cadence + ' ' + r.step))];
  const max = Math.max(0.05, ...rows.map((r) => r.connect_rate));
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Connect rate per cadence step and lead type');
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  add('line', { x1: L, y1: H - B, x2: W - 4, y2: H - B, stroke: '#57606a' });
  for (const f of [0, 0.5, 1]) {
    const y = H - B - f * (H - B - T);
    add('text', { x: L - 6, y: y + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#57606a' }, pct(f * max));
    add('line', { x1: L, y1: y, x2: W - 4, y2: y, stroke: '#d0d7de', 'stroke-dasharray': '3 3' });
  }
  const gw = (W - L - 8) / groups.length, bw = Math.min(36, (gw - 8) / types.length);
  groups.forEach((g, gi) => {
    types.forEach((t, ti) => {
      const r = rows.find((x) => x.cadence + ' ' + x.step === g && x.lead_type === t);
      if (!r) return;
      const h = (r.connect_rate / max) * (H - B - T);
      const x = L + 4 + gi * gw + ti * bw;
      const rect = add('rect', { x, y: H - B - h, width: bw - 3, height: Math.max(h, 0.5), fill: colors[ti % colors.length] });
      const title = document.createElementNS(NS, 'title');
      title.textContent = `${r.cadence} step ${r.step}, ${t}: ${pct(r.connect_rate)} (${r.connects}/${r.attempts})`;
      rect.append(title);
    });
    add('text', { x: L + 4 + gi * gw + (bw * types.length) / 2, y: H - B + 14, 'text-anchor': 'middle', 'font-size': 11, fill: '#1b1f24' }, 'step ' + g.split(' ').pop());
  });
  types.forEach((t, ti) => {
    add('rect', { x: L + ti * 90, y: H - 14, width: 10, height: 10, fill: colors[ti % colors.length] });
    add('text', { x: L + 14 + ti * 90, y: H - 5, 'font-size': 11, fill: '#1b1f24' }, t);
  });
  box.append(svg);
}

async function loadStats() {
  const { status, body } = await api('/v1/stats');
  if (status !== 200) { $('stats-note').textContent = 'Statistics unavailable (' + status + ').'; return; }
  const m = body.measures;
  const items = [
    ['Follow-ups to close, per won deal', m.follow_ups_per_won_deal.toFixed(2)],
    ['Attempts before first contact', m.attempts_before_first_contact.toFixed(2)],
    ['Callbacks per voicemail', m.callbacks_per_voicemail.toFixed(2)],
    ['Won deals', m.won_deals],
  ];
  $('measures').replaceChildren(...items.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))));
  const rows = body.by_step.slice().sort((a, b) => a.cadence.localeCompare(b.cadence) || (+a.step - +b.step) || a.lead_type.localeCompare(b.lead_type));
  drawChart(rows.filter((r) => r.step !== 'follow_up'));
  $('steps').querySelector('tbody').replaceChildren(...rows.map((r) => el('tr', {},
    el('td', {}, r.cadence), el('td', {}, r.step), el('td', {}, r.lead_type), el('td', {}, r.attempts),
    el('td', {}, r.connects), el('td', {}, r.wins), el('td', {}, pct(r.connect_rate)))));
  $('stats-note').textContent = body.by_rep_note || '';
}

// ---------------------------------------------------------------- wiring

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in-form').addEventListener('submit', (e) => { e.preventDefault(); $('sign-in-error').textContent = ''; signIn($('token').value.trim()); });
  $('sign-out').addEventListener('click', signOut);
  $('stats-refresh').addEventListener('click', loadStats);
  Rep.wire();
  if (Session.signedIn()) signIn();
});
