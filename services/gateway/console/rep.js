// cadence console — the rep's day: call-now alerts (loud, pinned until acted on, updated in
// place by revision), the queue in the rep's time zone (overdue rows dated), what to do and say
// for each task (opener, voicemail script and email filled in, warnings, why it moved, the
// lead's local time, a tel: link), logging an outcome / snoozing / skipping a task, finding a
// lead by name, company or email, and the lead's page (history in words, the next touch).
// Uses app.js's helpers ($, el, api, fmtTime, fmtDate) and session.js.
'use strict';

const Rep = (() => {
  let me = null;
  let streamAbort = null;
  let messages = null; // message_id -> {kind, subject, text}
  let tickTimer = null;
  const handled = new Set(JSON.parse(localStorage.getItem('cadence.handled') || '[]'));
  const RECONNECT_MIN_MS = 1000, RECONNECT_MAX_MS = 30000;

  // ------------------------------------------------------------ words

  const REASONS = {
    former_no_revisit: 'Former “no” is back',
    former_no_callback: 'Former “no” called back',
    warm_inbound: 'Warm inbound',
    hot_page_active: 'Active on hot pages',
    inbound_callback: 'Called back',
    inbound_reply: 'Replied',
    inbound_meeting: 'Asked for a meeting',
  };
  const OBJECTIVES = { first_time_call: 'First-time call', follow_up: 'Follow-up call', re_evaluate: 'Re-evaluate' };
  const CHANNELS = { call: 'Call', email: 'Email', linkedin: 'LinkedIn touch', social: 'Social touch', delivery: 'Special delivery' };
  const MOVED = {
    weekend: 'it fell on a weekend', holiday: 'it fell on a holiday', outside_hours: 'it fell outside business hours',
    voicemail_gap: 'too soon after the last voicemail', out_of_office: 'the prospect is out of office',
    daily_cap: 'enough attempts that day already', snoozed: 'you snoozed it',
  };
  const STATUS = {
    new: 'new', active: 'in the cadence', follow_up: 'following up after a conversation', re_evaluate: 'to re-evaluate',
    nurture: 'in nurture (said no)', meeting_booked: 'meeting booked', won: 'won', lost: 'lost', do_not_call: 'do not call',
  };
  const DISPOSITIONS = {
    no_answer: 'Called — no answer', voicemail_left: 'Called — left a voicemail', gatekeeper: 'Called — reached a gatekeeper',
    connected: 'Spoke with them', callback_received: 'They called back', not_interested: 'They said no',
    meeting_booked: 'Meeting booked', closed_won: 'Won', closed_lost: 'Lost', wrong_number: 'Wrong number',
    do_not_call: 'Asked not to be called', sent: 'Sent', replied: 'They replied', bounced: 'Email bounced',
    out_of_office: 'Out of office', snoozed: 'Snoozed the task', skipped: 'Skipped the task',
  };
  const ROLES = { decision_maker: 'decision maker', influencer: 'influencer', info_gatherer: 'info gatherer', end_user: 'end user' };
  const CHECKS = { problem: 'recognises the problem', decision_makers: 'decision makers known', timeline: 'has a timeline', price: 'qualified on price' };

  const fullName = (l) => [l.first_name, l.last_name].filter(Boolean).join(' ');

  function localTime(tz) {
    if (!tz) return '';
    try {
      return new Date().toLocaleTimeString([], { timeZone: tz, hour: '2-digit', minute: '2-digit' }) + ' their time';
    } catch (e) { return ''; }
  }

  function ago(ms) {
    const m = Math.max(0, Math.round((Date.now() - ms) / 60000));
    if (m < 1) return 'just now';
    if (m < 60) return m + (m === 1 ? ' minute ago' : ' minutes ago');
    const h = Math.round(m / 60);
    return h + (h === 1 ? ' hour ago' : ' hours ago');
  }

  function telLink(phone) {
    if (!phone) return null;
    return el('a', { class: 'tel', href: 'tel:' + phone.replace(/[^+0-9]/g, '') }, 'Call ' + phone);
  }

  // One line of facts separated by " · ", skipping the empty ones.
  function meta(...parts) {
    const p = el('p', { class: 'meta' });
    parts.filter((x) => x !== null && x !== undefined && x !== '').forEach((x, i) => { if (i) p.append(' · '); p.append(x); });
    return p;
  }

  // Fills the playbook's placeholders from the lead; unknown ones stay for the rep to fill.
  function fill(text, lead) {
    const values = { first_name: lead.first_name, last_name: lead.last_name, company: lead.company, rep: me && me.rep_id };
    return String(text || '').replace(/\{([a-z_]+)\}/g, (m, k) => (values[k] ? values[k] : m));
  }

  async function loadMessages() {
    if (messages) return messages;
    const { status, body } = await api('/v1/messages');
    messages = {};
    if (status === 200) for (const m of body.messages) messages[m.message_id] = m;
    return messages;
  }

  // ------------------------------------------------------------ loud alerts

  function sound() {
    if ($('mute').checked) return;
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.2, ctx.currentTime);
      g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.6);
      o.connect(g).connect(ctx.destination);
      o.start();
      o.stop(ctx.currentTime + 0.6);
      o.onended = () => ctx.close();
    } catch (e) { /* no audio device: the title and the card still show it */ }
  }

  function notify(a, update) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    const lead = a.lead || {};
    try {
      const n = new Notification((update ? 'Update: call ' : 'Call now: ') + (fullName(lead) || a.lead_id),
        { body: [REASONS[a.reason] || a.reason, lead.company, a.suggested_opener].filter(Boolean).join(' · '),
          tag: a.alert_id, renotify: true });
      n.onclick = () => { window.focus(); showLead(a.lead_id); };
    } catch (e) { /* some browsers only notify from a service worker */ }
  }

  function updateTitle() {
    const open = document.querySelectorAll('#alerts li.alert:not(.handled)').length;
    document.title = (open ? '(' + open + ') ' : '') + 'cadence console';
    $('no-alerts').hidden = document.querySelectorAll('#alerts li.alert').length > 0;
  }

  function renderAlertBody(li, a) {
    const lead = a.lead || {};
    const name = fullName(lead) || a.lead_id;
    const trig = a.trigger || {};
    const rev = a.revision || 1;
    li.replaceChildren(
      el('p', { class: 'reason' }, REASONS[a.reason] || a.reason, rev > 1 ? el('span', { class: 'badge upd' }, 'updated') : null),
      el('h3', {}, name, lead.company ? ' — ' + lead.company : ''),
      a.suggested_opener ? el('p', { class: 'opener' }, '“' + a.suggested_opener + '”') : null,
      a.no ? el('p', { class: 'no' }, 'Said no on ' + fmtDate(a.no.at) + (a.no.reason ? ': ' + a.no.reason : '')) : null,
      el('p', { class: 'meta' }, 'Viewed ', trig.url || 'a hot page', ' · ', el('span', { class: 'ago', 'data-ms': String(Date.parse(trig.occurred_at) || Date.now()) }, ago(Date.parse(trig.occurred_at) || Date.now())),
        lead.timezone ? ' · ' + localTime(lead.timezone) : ''),
      el('p', { class: 'actions' }, telLink(lead.phone),
        el('button', { type: 'button', class: 'small', onclick: () => actOnLead(a.lead_id) }, 'Log outcome'),
        el('button', { type: 'button', class: 'small', onclick: () => markHandled(a.alert_id) }, 'Done'),
        el('button', { type: 'button', class: 'linkish', onclick: () => showLead(a.lead_id) }, 'Open lead')));
    li.dataset.revision = String(rev);
  }

  function onAlert(streamId, data) {
    let a;
    try { a = JSON.parse(data); } catch (e) { return; }
    const rev = a.revision || 1;
    const old = document.querySelector('#alerts li.alert[data-alert-id="' + CSS.escape(a.alert_id) + '"]');
    if (old) {
      if (Number(old.dataset.revision || 1) >= rev) return;
      renderAlertBody(old, a); // an update refreshes the card in place
      old.dataset.streamId = streamId || '';
      old.classList.remove('handled');
      handled.delete(a.alert_id);
      old.classList.add('flash');
      setTimeout(() => old.classList.remove('flash'), 1500);
      notify(a, true);
      sound();
      updateTitle();
      return;
    }
    const li = el('li', { class: 'alert', 'data-alert-id': a.alert_id, 'data-lead-id': a.lead_id,
                          'data-stream-id': streamId || '', 'data-received-ms': String(Date.now()) });
    renderAlertBody(li, a);
    if (handled.has(a.alert_id)) {
      li.classList.add('handled');
      $('alerts').append(li);
    } else {
      // pinned: open alerts stay above handled ones, newest first
      $('alerts').prepend(li);
      // only alerts new to this session are loud (the stream replays the last ones on connect)
      if (Date.now() - (Date.parse((a.trigger || {}).occurred_at) || 0) < 3600000) { notify(a, false); sound(); }
    }
    updateTitle();
  }

  function markHandled(alertId) {
    handled.add(alertId);
    localStorage.setItem('cadence.handled', JSON.stringify([...handled].slice(-200)));
    const li = document.querySelector('#alerts li.alert[data-alert-id="' + CSS.escape(alertId) + '"]');
    if (li) { li.classList.add('handled'); $('alerts').append(li); }
    updateTitle();
  }

  function handledLead(leadId) {
    for (const li of document.querySelectorAll('#alerts li.alert')) if (li.dataset.leadId === leadId) markHandled(li.dataset.alertId);
  }

  function tick() {
    for (const s of document.querySelectorAll('.ago[data-ms]')) s.textContent = ago(Number(s.dataset.ms));
  }

  // Server-Sent Events read with fetch (the token goes in a header), resuming with
  // Last-Event-ID; reconnects with capped exponential backoff and jitter.
  async function streamAlerts() {
    let lastId = null, delay = RECONNECT_MIN_MS;
    streamAbort = new AbortController();
    const state = $('stream-state');
    for (;;) {
      try {
        const headers = Session.headers({ Accept: 'text/event-stream' });
        if (lastId) headers['Last-Event-ID'] = lastId;
        const res = await fetch('/v1/alerts/stream', { headers, signal: streamAbort.signal, cache: 'no-store' });
        if (res.status === 401 || res.status === 403) { signOut(); return; }
        if (res.status !== 200) throw new Error('status ' + res.status);
        state.textContent = 'live';
        state.classList.add('live');
        delay = RECONNECT_MIN_MS;
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
            let id = null;
            const data = [];
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
      state.textContent = 'reconnecting…';
      state.classList.remove('live');
      const wait = delay / 2 + Math.random() * delay / 2;
      state.dataset.retryMs = String(Math.round(wait));
      await new Promise((r) => setTimeout(r, wait));
      delay = Math.min(RECONNECT_MAX_MS, delay * 2);
    }
  }

  // ------------------------------------------------------------ queue and tasks

  let queueTasks = [];

  async function loadQueue() {
    const { status, body } = await api('/v1/queue');
    const over = $('queue-overdue'), today = $('queue-today');
    over.replaceChildren();
    today.replaceChildren();
    if (status !== 200) { $('no-queue').hidden = false; $('no-queue').textContent = 'Queue unavailable (' + status + ').'; return []; }
    queueTasks = body.tasks;
    $('queue-day').textContent = body.today ? fmtDay(body.today.date) + ' · ' + body.today.timezone : '';
    $('no-queue').hidden = body.tasks.length > 0;
    await loadMessages();
    for (const t of body.tasks) {
      const row = taskRow(t, body.today ? body.today.timezone : undefined);
      (t.day === 'overdue' ? over : today).append(row);
    }
    $('overdue-title').hidden = over.children.length === 0;
    $('today-title').hidden = today.children.length === 0;
    return body.tasks;
  }

  function fmtDay(date) {
    const d = new Date(date + 'T12:00:00Z');
    return isNaN(d) ? date : d.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
  }

  function taskWhat(task) {
    return [CHANNELS[task.channel] || task.channel, task.objective ? '· ' + (OBJECTIVES[task.objective] || task.objective) : '',
      task.ftc_attempt ? '#' + task.ftc_attempt : '', task.voicemail ? '· leave a voicemail' : '', task.email ? '· send the email' : '']
      .filter(Boolean).join(' ');
  }

  function taskRow(t, tz) {
    const task = t.task || {};
    const lead = task.lead || {};
    const due = new Date(t.due_ms);
    const opts = { hour: '2-digit', minute: '2-digit', timeZone: tz };
    const when = t.day === 'overdue'
      ? due.toLocaleDateString([], { day: 'numeric', month: 'short', timeZone: tz }) + ' ' + due.toLocaleTimeString([], opts)
      : due.toLocaleTimeString([], opts);
    const li = el('li', { class: 'task' + (t.day === 'overdue' ? ' overdue' : ''), 'data-task-id': t.task_id, 'data-lead-id': task.lead_id || '' });
    const head = el('button', { type: 'button', class: 'task-head', 'aria-expanded': 'false' },
      el('span', { class: 'when' }, when), el('span', { class: 'who' }, fullName(lead) || task.lead_id || t.task_id, lead.company ? ' — ' + lead.company : ''),
      el('span', { class: 'what' }, taskWhat(task)));
    const card = el('div', { class: 'task-card', hidden: '' });
    head.addEventListener('click', () => {
      const open = card.hidden;
      card.hidden = !open;
      head.setAttribute('aria-expanded', String(open));
      if (open && !card.childElementCount) card.append(...taskCard(t));
    });
    li.append(head, card);
    return li;
  }

  // What to do and say for one task.
  function taskCard(t) {
    const task = t.task || {};
    const lead = task.lead || {};
    const parts = [];
    parts.push(meta(telLink(lead.phone), lead.email, localTime(lead.timezone)));
    if (task.opener) parts.push(el('p', { class: 'opener' }, 'Open with: “' + task.opener + '”'));
    if (task.suggestion) parts.push(el('p', {}, task.suggestion));
    const msg = messages && task.message_id ? messages[task.message_id] : null;
    if (task.voicemail && msg) parts.push(el('div', { class: 'script' }, el('h4', {}, 'Voicemail script'), el('p', {}, fill(msg.text, lead))));
    const pair = msg ? pairedEmail(task.message_id) : null;
    if (task.email && pair) {
      parts.push(el('div', { class: 'script' }, el('h4', {}, 'Email'), pair.subject ? el('p', { class: 'subject' }, 'Subject: ' + fill(pair.subject, lead)) : null,
        el('p', {}, fill(pair.text, lead))));
    }
    for (const w of task.warnings || []) parts.push(el('p', { class: 'warning' }, '⚠ ' + w.message));
    for (const m of task.moved || []) parts.push(el('p', { class: 'moved' }, 'Moved from ' + fmtTime(m.from) + ': ' + (MOVED[m.reason] || m.reason) + '.'));
    parts.push(el('p', { class: 'actions' },
      el('button', { type: 'button', onclick: () => Outcome.open(t, 'log') }, 'Log outcome'),
      el('button', { type: 'button', class: 'small', onclick: () => Outcome.open(t, 'snooze') }, 'Snooze'),
      el('button', { type: 'button', class: 'small', onclick: () => Outcome.open(t, 'skip') }, 'Skip'),
      task.lead_id ? el('button', { type: 'button', class: 'linkish', onclick: () => showLead(task.lead_id) }, 'Open lead') : null));
    return parts;
  }

  // A voicemail's message_id names the pair; the email of the pair has the same index.
  function pairedEmail(id) {
    const m = messages[id];
    if (!m) return null;
    if (m.kind === 'email') return m;
    const list = Object.values(messages);
    const vms = list.filter((x) => x.kind === 'voicemail'), ems = list.filter((x) => x.kind === 'email');
    return ems[vms.findIndex((x) => x.message_id === id)] || null;
  }

  // From an alert: the lead's open task, if it is in the queue.
  async function actOnLead(leadId) {
    let t = queueTasks.find((x) => (x.task || {}).lead_id === leadId);
    if (!t) { await loadQueue(); t = queueTasks.find((x) => (x.task || {}).lead_id === leadId); }
    if (t) Outcome.open(t, 'log');
    else { showLead(leadId); $('lead-note').textContent = 'No open task for this lead in your queue: call them, then mark the alert done.'; }
  }

  // After an outcome: wait (with a deadline) until the worker has applied it — the task
  // leaves the queue — then show the lead's next touch.
  async function afterOutcome(taskId, leadId) {
    handledLead(leadId);
    const deadline = Date.now() + 20000;
    let wait = 300;
    while (Date.now() < deadline) {
      const tasks = await loadQueue();
      if (!tasks.some((x) => x.task_id === taskId)) break;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(2000, wait * 2);
    }
    await showLead(leadId);
  }

  // ------------------------------------------------------------ lead search and page

  let searchTimer = null, searchSeq = 0;

  async function search(q) {
    const seq = ++searchSeq;
    const box = $('search-results');
    if (!q.trim()) { box.replaceChildren(); return; }
    if (!me) { box.replaceChildren(); showLead(q.trim()); return; } // a manager opens a lead by id
    const { status, body } = await api('/v1/leads?q=' + encodeURIComponent(q));
    if (seq !== searchSeq) return;
    if (status !== 200) { box.replaceChildren(el('li', { class: 'error' }, 'Search failed (' + status + ').')); return; }
    if (!body.leads.length) { box.replaceChildren(el('li', { class: 'empty' }, 'No lead of yours starts with “' + q + '”.')); return; }
    box.replaceChildren(...body.leads.map((l) => el('li', {},
      el('button', { type: 'button', class: 'linkish', onclick: () => showLead(l.lead_id) }, fullName(l) || l.lead_id),
      l.company ? ' — ' + l.company : '', l.email ? el('span', { class: 'help' }, ' ' + l.email) : null)));
  }

  function historyWords(e) {
    const d = e.detail || {};
    const kind = String(e.event || '').split(':');
    const items = [];
    if (kind[0] === 'lead') items.push('Lead details received');
    else if (kind[0] === 'site_visit') items.push('Visited ' + (d.title ? '“' + d.title + '” ' : '') + (d.url || 'the website'));
    else if (kind[0] === 'call_outcome') {
      items.push(DISPOSITIONS[kind[1]] || kind[1]);
      if (d.channel && d.channel !== 'call' && kind[1] !== 'snoozed' && kind[1] !== 'skipped') items.push('(' + (CHANNELS[d.channel] || d.channel).toLowerCase() + ')');
      if (d.snooze_until) items.push('until ' + fmtTime(d.snooze_until));
      if (d.rep_id) items.push('by ' + d.rep_id);
    } else items.push(e.event || 'Event');
    const li = el('li', {}, el('strong', {}, fmtTime(e.at)), ' ', items.join(' '));
    const c = d.conversation;
    if (c) {
      const dl = el('ul', { class: 'conv' });
      if (c.problems && c.problems.length) dl.append(el('li', {}, 'Problems: ' + c.problems.join(', ')));
      if (c.next_steps) dl.append(el('li', {}, 'Next steps: ' + c.next_steps));
      if (c.role) dl.append(el('li', {}, 'Role: ' + (ROLES[c.role] || c.role)));
      if (c.qualification) {
        const q = Object.entries(CHECKS).filter(([k]) => k in c.qualification).map(([k, w]) => (c.qualification[k] ? '✓ ' : '✗ ') + w);
        if (q.length) dl.append(el('li', {}, 'Qualification: ' + q.join(', ')));
      }
      if (c.next_contact_at) dl.append(el('li', {}, 'Next contact agreed: ' + fmtTime(c.next_contact_at)));
      li.append(dl);
    }
    if (d.no_reason) li.append(el('p', { class: 'no' }, 'Reason: ' + d.no_reason));
    if (d.notes) li.append(el('p', { class: 'notes' }, 'Notes: ' + d.notes));
    if (e.status) li.dataset.status = e.status;
    return li;
  }

  async function showLead(id) {
    const box = $('lead');
    $('lead-note').textContent = '';
    box.replaceChildren(el('p', { class: 'help' }, 'Loading…'));
    const [{ status, body }, tasks] = [await api('/v1/leads/' + encodeURIComponent(id)), queueTasks];
    if (status !== 200) { box.replaceChildren(el('p', { class: 'error' }, status === 404 ? 'No such lead (or not yours).' : 'Error ' + status)); return; }
    await loadMessages();
    const s = body.state || {};
    const name = fullName(s);
    const known = el('ul', { class: 'known' });
    if (s.problems) known.append(el('li', {}, 'Problems: ' + s.problems));
    if (s.next_steps) known.append(el('li', {}, 'Next steps: ' + s.next_steps));
    if (s.role) known.append(el('li', {}, 'Role: ' + (ROLES[s.role] || s.role)));
    const qk = s.qualification_known || 0, qv = s.qualification || 0;
    const qs = Object.values(CHECKS).map((w, i) => ((qk >> i) & 1 ? ((qv >> i) & 1 ? '✓ ' : '✗ ') + w : null)).filter(Boolean);
    if (qs.length) known.append(el('li', {}, 'Qualification: ' + qs.join(', ')));
    if (s.no_reason) known.append(el('li', {}, 'Said no' + (s.no_at ? ' on ' + fmtDate(new Date(s.no_at).toISOString()) : '') + ': ' + s.no_reason));
    const next = el('div', { class: 'next' }, el('h4', {}, 'Next planned touch'));
    const queued = tasks.find((x) => x.task_id === s.open_task_id);
    if (s.open_task_id && s.open_due_at) {
      next.append(el('p', { class: 'next-touch', 'data-task-id': s.open_task_id },
        (CHANNELS[s.open_channel] || s.open_channel || 'Touch') + ' due ' + fmtTime(new Date(s.open_due_at).toISOString()),
        queued ? ' (in your queue)' : ''));
      if (queued) next.append(...taskCard(queued));
    } else {
      next.append(el('p', { class: 'next-touch empty' }, 'Nothing planned: ' + (STATUS[s.status] || s.status || 'no cadence') + '.'));
    }
    const tl = el('ol', { class: 'timeline' });
    for (const e of body.timeline) if (e && typeof e === 'object') tl.append(historyWords(e));
    box.replaceChildren(
      el('h3', {}, name || id, s.company ? ' — ' + s.company : ''),
      meta(telLink(s.phone), s.email, localTime(s.timezone), STATUS[s.status] || s.status, s.lead_type ? s.lead_type + ' lead' : ''),
      ...(known.childElementCount ? [el('div', {}, el('h4', {}, 'What we know'), known)] : []),
      next, el('h4', {}, 'History (newest first)'), tl);
    $('lead-panel').scrollIntoView({ block: 'nearest' });
  }

  // ------------------------------------------------------------ life cycle

  function askNotifications() {
    if (!('Notification' in window)) { $('notify').hidden = true; return; }
    const b = $('notify');
    b.hidden = Notification.permission !== 'default';
    b.onclick = async () => { await Notification.requestPermission(); b.hidden = Notification.permission !== 'default'; };
  }

  return {
    wire() {
      $('queue-refresh').addEventListener('click', loadQueue);
      $('mute').checked = localStorage.getItem('cadence.mute') === '1';
      $('mute').addEventListener('change', () => localStorage.setItem('cadence.mute', $('mute').checked ? '1' : '0'));
      $('search').addEventListener('input', () => {
        clearTimeout(searchTimer);
        searchTimer = setTimeout(() => search($('search').value), 250);
      });
      $('search-form').addEventListener('submit', (e) => { e.preventDefault(); search($('search').value); });
      Outcome.wire();
    },
    start(who) {
      me = who;
      $('rep-tools').hidden = false;
      askNotifications();
      loadQueue();
      streamAlerts();
      tickTimer = setInterval(tick, 30000);
    },
    stop() {
      if (streamAbort) streamAbort.abort();
      clearInterval(tickTimer);
    },
    me: () => me,
    showLead, loadQueue, afterOutcome, messageList: () => Object.values(messages || {}), fill,
  };
})();

// app.js calls showLead for the lead id box of a manager too.
function showLead(id) { return Rep.showLead(id); }
