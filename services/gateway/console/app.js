// cadence console — plain JS, no build step, classic scripts sharing these helpers:
// session.js (the credential: the one file an OIDC login replaces), app.js (helpers, sign-in),
// rep.js (the rep's day: alerts, queue, tasks, outcomes, lead search and pages), stats.js (the
// manager's numbers). Everything from the server is inserted as text (never as HTML).
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
    window.cadenceStats.show(); // stats.js
  }
}

function signOut() {
  Session.end();
  Rep.stop();
  location.reload();
}

// ---------------------------------------------------------------- wiring

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in-form').addEventListener('submit', (e) => { e.preventDefault(); $('sign-in-error').textContent = ''; signIn($('token').value.trim()); });
  $('sign-out').addEventListener('click', signOut);
  Rep.wire();
  if (Session.signedIn()) signIn();
});
