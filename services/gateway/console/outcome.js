// cadence console — acting on a task: the form that logs an outcome (every disposition a rep
// needs, with the conversation's fields when they spoke), snoozes the task with a reason, or
// skips it; sent to POST /v1/tasks/{task_id}/outcome. The gateway fills ids, lead, rep,
// channel and time. Uses app.js's helpers and rep.js.
'use strict';

const Outcome = (() => {
  let current = null; // the queue entry being acted on
  let mode = 'log';

  const LOG_CHOICES = [
    ['no_answer', 'No answer'], ['voicemail_left', 'Left a voicemail'], ['gatekeeper', 'Gatekeeper'],
    ['connected', 'Spoke with them'], ['not_interested', 'Not interested'], ['meeting_booked', 'Meeting booked'],
    ['closed_won', 'Won'], ['closed_lost', 'Lost'],
  ];
  const EMAIL_CHOICES = [['sent', 'Sent'], ['replied', 'They replied'], ['bounced', 'Bounced']];

  // The datetime-local value `d` (a Date) in the browser's zone.
  function localInput(d) {
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  }

  function show(id, on) { $(id).hidden = !on; }

  function refresh() {
    const d = (document.querySelector('input[name="disposition"]:checked') || {}).value;
    show('f-voicemail', mode === 'log' && d === 'voicemail_left');
    show('f-conversation', mode === 'log' && (d === 'connected' || d === 'meeting_booked'));
    show('f-reason', mode === 'log' && (d === 'not_interested' || d === 'closed_lost'));
    show('f-dispositions', mode === 'log');
    show('f-snooze', mode === 'snooze');
    $('o-notes-label').textContent = mode === 'snooze' ? 'Why snooze? (required)' : mode === 'skip' ? 'Why skip?' : 'Notes';
    $('o-notes').required = mode === 'snooze';
  }

  function open(t, how) {
    current = t;
    mode = how;
    const task = t.task || {};
    const lead = task.lead || {};
    $('o-title').textContent = (how === 'snooze' ? 'Snooze: ' : how === 'skip' ? 'Skip: ' : 'Outcome: ') +
      ([lead.first_name, lead.last_name].filter(Boolean).join(' ') || task.lead_id || t.task_id);
    $('o-error').textContent = '';
    $('outcome-form').reset();
    const choices = task.channel === 'email' ? EMAIL_CHOICES : LOG_CHOICES;
    $('o-dispositions').replaceChildren(...choices.map(([v, label], i) => el('label', { class: 'choice' },
      (() => { const r = el('input', { type: 'radio', name: 'disposition', value: v }); if (i === 0) r.checked = true; r.addEventListener('change', refresh); return r; })(), ' ', label)));
    // the script the task names, and the others, for "which voicemail did you leave"
    const sel = $('o-script');
    sel.replaceChildren();
    for (const m of Rep.messageList().filter((x) => x.kind === 'voicemail')) {
      const o = el('option', { value: m.message_id }, m.message_id + (m.message_id === task.message_id ? ' (this task’s script)' : ''));
      if (m.message_id === task.message_id) o.selected = true;
      sel.append(o);
    }
    const tomorrow = new Date(Date.now() + 86400000);
    tomorrow.setHours(9, 0, 0, 0);
    $('o-until').value = localInput(tomorrow);
    refresh();
    $('outcome').hidden = false;
    $('outcome').scrollIntoView({ block: 'nearest' });
    (mode === 'log' ? $('o-dispositions').querySelector('input') : $('o-notes')).focus();
  }

  function close() { $('outcome').hidden = true; current = null; }

  function body() {
    const b = {};
    const notes = $('o-notes').value.trim();
    if (notes) b.notes = notes;
    if (mode === 'snooze') {
      const until = new Date($('o-until').value);
      if (isNaN(until)) throw new Error('Pick when the task should come back.');
      b.disposition = 'snoozed';
      b.snooze_until = until.toISOString();
      return b;
    }
    if (mode === 'skip') { b.disposition = 'skipped'; return b; }
    const d = (document.querySelector('input[name="disposition"]:checked') || {}).value;
    if (!d) throw new Error('Pick what happened.');
    b.disposition = d;
    if (d === 'voicemail_left' && $('o-script').value) b.message_id = $('o-script').value;
    if (d === 'not_interested' || d === 'closed_lost') {
      const r = $('o-reason').value.trim();
      if (r) b.no_reason = r;
    }
    if (d === 'connected' || d === 'meeting_booked') {
      const c = {};
      const problems = $('o-problems').value.split(/[\n,;]/).map((x) => x.trim()).filter(Boolean).slice(0, 10);
      if (problems.length) c.problems = problems;
      if ($('o-next-steps').value.trim()) c.next_steps = $('o-next-steps').value.trim();
      if ($('o-role').value) c.role = $('o-role').value;
      c.qualification = {};
      for (const k of ['problem', 'decision_makers', 'timeline', 'price']) c.qualification[k] = $('o-q-' + k).checked;
      if ($('o-next-contact').value) c.next_contact_at = new Date($('o-next-contact').value).toISOString();
      b.conversation = c;
    }
    return b;
  }

  async function submit(e) {
    e.preventDefault();
    if (!current) return;
    let b;
    try { b = body(); } catch (err) { $('o-error').textContent = err.message; return; }
    if (mode === 'snooze' && !b.notes) { $('o-error').textContent = 'Say why you snooze it.'; return; }
    const t = current;
    $('o-send').disabled = true;
    const { status, body: res } = await api('/v1/tasks/' + encodeURIComponent(t.task_id) + '/outcome', { body: b });
    $('o-send').disabled = false;
    if (status === 202) {
      close();
      $('queue-note').textContent = 'Logged. Waiting for the next touch…';
      await Rep.afterOutcome(t.task_id, (t.task || {}).lead_id);
      $('queue-note').textContent = '';
      return;
    }
    const errs = res && res.errors ? res.errors.map((x) => (x.path ? x.path + ': ' : '') + x.message).join('; ') : (res && res.error) || '';
    $('o-error').textContent = status === 404 ? 'This task is no longer open (already logged?). Refresh the queue.' : 'Not logged (' + status + '): ' + errs;
  }

  return {
    wire() {
      $('outcome-form').addEventListener('submit', submit);
      $('o-cancel').addEventListener('click', close);
    },
    open,
  };
})();
