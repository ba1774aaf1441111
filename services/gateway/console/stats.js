// cadence console — the managers' numbers (GET /v1/stats): a date-range picker, the team's
// measures, dials and connects per day and the connect rate per cadence step as SVG charts with
// labelled axes, a per-rep table from which a manager opens any rep's queue and live alert feed,
// and the step × lead-type table. A ratio with nothing to divide by shows "—". Everything from
// the server is inserted as text. Entry point: window.cadenceStats.show() (app.js calls it for a
// manager token).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const NS = 'http://www.w3.org/2000/svg';
  const DASH = '—';
  let feedAbort = null;

  // the credential comes from session.js (the one module an OIDC login replaces)
  async function get(path) {
    const res = await fetch(path, { headers: Session.headers(), cache: 'no-store' });
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    return { status: res.status, body };
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'onclick') e.addEventListener('click', v);
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // ------------------------------------------------------------ formatting ("—" = no data)
  const pct = (x) => (x === null || x === undefined ? DASH : (100 * x).toFixed(1) + ' %');
  const num2 = (x) => (x === null || x === undefined ? DASH : x.toFixed(2));
  const count = (x) => (x === null || x === undefined ? DASH : String(x));

  function isoDay(d) {
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
  }

  function setRange(days) {
    const to = new Date();
    const from = new Date(to.getFullYear(), to.getMonth(), to.getDate() - (days - 1));
    $('stats-from').value = isoDay(from);
    $('stats-to').value = isoDay(to);
  }

  // ------------------------------------------------------------ charts

  // An SVG chart with a y axis (ticks and a title) and category labels on the x axis. The
  // margins are measured from the rendered labels, so no label is clipped whatever its length.
  function svgChart(box, { title, yTitle, xTitle, categories, series, max, fmt }) {
    box.replaceChildren();
    // drawn at the box's own width, so labels keep their size on a phone
    const W = Math.round(Math.max(300, Math.min(960, box.clientWidth || 760)));
    const H = W < 500 ? 280 : 300;
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', title);
    svg.setAttribute('width', '100%');
    const add = (parent, tag, attrs, text) => {
      const n = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text !== undefined) n.textContent = text;
      parent.append(n);
      return n;
    };
    box.append(svg);
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
    // Measure the labels first (rendered off to the side), then lay out around them.
    const probe = add(svg, 'g', {});
    const width = (text, size) => {
      const t = add(probe, 'text', { 'font-size': size }, text);
      const w = t.getComputedTextLength();
      return w;
    };
    const yLabelW = Math.max(...ticks.map((v) => width(fmt(v), 11)));
    const step = Math.max(1, Math.ceil(categories.length / 16));
    const xLabelW = Math.max(0, ...categories.map((c) => width(c, 11)));
    probe.remove();
    const L = 22 + yLabelW + 10;          // y title + tick labels
    // upright labels while they fit their slot (every `step`-th category is labelled)
    const rotate = xLabelW + 8 > ((W - L - 12) / Math.max(1, categories.length)) * step;
    const B = (rotate ? xLabelW * 0.72 + 14 : 18) + 34; // x labels + x title + legend
    const T = 12, R = 12;
    const plotH = H - T - B, plotW = W - L - R;
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    // axes, grid and tick labels
    for (const v of ticks) {
      const y = T + plotH - (max ? v / max : 0) * plotH;
      add(svg, 'line', { x1: L, y1: y, x2: W - R, y2: y, stroke: v ? '#d0d7de' : '#57606a', 'stroke-dasharray': v ? '3 3' : '' });
      add(svg, 'text', { x: L - 6, y: y + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#57606a', class: 'tick' }, fmt(v));
    }
    add(svg, 'line', { x1: L, y1: T, x2: L, y2: T + plotH, stroke: '#57606a' });
    add(svg, 'text', { x: 12, y: T + plotH / 2, transform: `rotate(-90 12 ${T + plotH / 2})`, 'text-anchor': 'middle', 'font-size': 12, fill: '#1b1f24', class: 'axis-title' }, yTitle);
    add(svg, 'text', { x: L + plotW / 2, y: H - 20, 'text-anchor': 'middle', 'font-size': 12, fill: '#1b1f24', class: 'axis-title' }, xTitle);
    // bars
    const gw = plotW / Math.max(1, categories.length);
    const bw = Math.max(2, Math.min(28, (gw - 4) / series.length));
    categories.forEach((c, ci) => {
      series.forEach((s, si) => {
        const v = s.values[ci];
        if (v === null || v === undefined) return;
        const h = max ? (v / max) * plotH : 0;
        const x = L + ci * gw + (gw - bw * series.length) / 2 + si * bw;
        const rect = add(svg, 'rect', { x, y: T + plotH - h, width: Math.max(1, bw - 2), height: Math.max(h, 0.5), fill: s.color });
        add(rect, 'title', {}, s.label(ci));
      });
      if (ci % step === 0) {
        const x = L + ci * gw + gw / 2, y = T + plotH + 14;
        add(svg, 'text', rotate
          ? { x, y, 'text-anchor': 'end', 'font-size': 11, fill: '#1b1f24', transform: `rotate(-45 ${x} ${y - 4})`, class: 'tick' }
          : { x, y, 'text-anchor': 'middle', 'font-size': 11, fill: '#1b1f24', class: 'tick' }, c);
      }
    });
    // legend, bottom left
    let lx = L;
    series.forEach((s) => {
      add(svg, 'rect', { x: lx, y: H - 12, width: 10, height: 10, fill: s.color });
      const t = add(svg, 'text', { x: lx + 14, y: H - 3, 'font-size': 11, fill: '#1b1f24' }, s.name);
      lx += 24 + t.getComputedTextLength();
    });
  }

  function niceMax(v) {
    if (v <= 0) return 4;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 4, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function drawActivity(days) {
    const box = $('activity-chart');
    if (!days.some((d) => d.dials || d.connects)) {
      box.replaceChildren(el('p', { class: 'empty' }, 'No dials in this range ' + DASH));
      return;
    }
    const max = niceMax(Math.max(...days.map((d) => d.dials)));
    const label = (d) => d.day.slice(5);
    svgChart(box, {
      title: 'Dials and connects per day', yTitle: 'Calls', xTitle: "Day (the lead's local date)",
      categories: days.map(label), max, fmt: (v) => String(Math.round(v)),
      series: [
        { name: 'Dials', color: '#0b5cad', values: days.map((d) => d.dials), label: (i) => `${days[i].day}: ${days[i].dials} dials` },
        { name: 'Connects', color: '#1a7f37', values: days.map((d) => d.connects), label: (i) => `${days[i].day}: ${days[i].connects} connects` },
      ],
    });
  }

  function drawSteps(rows) {
    const box = $('chart');
    if (!rows.length) { box.replaceChildren(el('p', { class: 'empty' }, 'No attempts in this range ' + DASH)); return; }
    const types = [...new Set(rows.map((r) => r.lead_type))].sort();
    const groups = [...new Set(rows.map((r) => r.cadence + ' ' + r.step))];
    const colors = ['#0b5cad', '#c2410c', '#1a7f37', '#6d28d9'];
    const find = (g, t) => rows.find((x) => x.cadence + ' ' + x.step === g && x.lead_type === t);
    const max = Math.max(0.05, ...rows.map((r) => r.connect_rate || 0));
    svgChart(box, {
      title: 'Connect rate per cadence step and lead type', yTitle: 'Connect rate', xTitle: 'Cadence step',
      categories: groups.map((g) => { const [c, s] = g.split(' '); return (s === 'follow_up' ? 'follow-up' : 'step ' + s) + (new Set(rows.map((r) => r.cadence)).size > 1 ? ' · ' + c : ''); }),
      max: Math.min(1, max * 1.1) || 1, fmt: (v) => (100 * v).toFixed(0) + ' %',
      series: types.map((t, ti) => ({
        name: t, color: colors[ti % colors.length],
        values: groups.map((g) => { const r = find(g, t); return r ? r.connect_rate : null; }),
        label: (i) => { const r = find(groups[i], t); return `${r.cadence} step ${r.step}, ${t}: ${pct(r.connect_rate)} (${r.connects}/${r.attempts})`; },
      })),
    });
  }

  // ------------------------------------------------------------ tables

  const REP_COLUMNS = [
    ['Dials', (m) => count(m.dials)], ['Connects', (m) => count(m.connects)],
    ['Connect rate', (m) => pct(m.connect_rate)], ['Voicemails', (m) => count(m.voicemails_left)],
    ['Callbacks per voicemail', (m) => num2(m.callbacks_per_voicemail)], ['Meetings', (m) => count(m.meetings)],
    ['Won', (m) => count(m.won_deals)], ['Attempts before first contact', (m) => num2(m.attempts_before_first_contact)],
    ['Follow-ups per won deal', (m) => num2(m.follow_ups_per_won_deal)],
  ];

  function renderReps(byRep) {
    const reps = Object.keys(byRep).sort();
    $('reps').querySelector('thead').replaceChildren(el('tr', {}, el('th', { scope: 'col' }, 'Rep'),
      ...REP_COLUMNS.map(([h]) => el('th', { scope: 'col' }, h)), el('th', { scope: 'col' }, 'Queue and feed')));
    const body = $('reps').querySelector('tbody');
    if (!reps.length) {
      body.replaceChildren(el('tr', {}, el('td', { colspan: REP_COLUMNS.length + 2, class: 'empty' }, 'No activity in this range ' + DASH)));
      return;
    }
    body.replaceChildren(...reps.map((rep) => el('tr', { 'data-rep': rep },
      el('th', { scope: 'row' }, rep), ...REP_COLUMNS.map(([, f]) => el('td', {}, f(byRep[rep]))),
      el('td', {}, el('button', { type: 'button', class: 'small', onclick: () => openRep(rep) }, 'Open ' + rep)))));
  }

  function renderSteps(rows) {
    const body = $('steps').querySelector('tbody');
    if (!rows.length) {
      body.replaceChildren(el('tr', {}, el('td', { colspan: 8, class: 'empty' }, 'No attempts in this range ' + DASH)));
      return;
    }
    body.replaceChildren(...rows.map((r) => el('tr', {},
      el('td', {}, r.cadence), el('td', {}, r.step === 'follow_up' ? 'follow-up' : r.step), el('td', {}, r.lead_type),
      el('td', {}, count(r.attempts)), el('td', {}, count(r.connects)), el('td', {}, count(r.wins)),
      el('td', {}, pct(r.connect_rate)), el('td', {}, pct(r.win_rate)))));
  }

  function renderMeasures(m) {
    const items = [
      ['Dials', count(m.dials)], ['Connects', count(m.connects)], ['Connect rate', pct(m.connect_rate)],
      ['Meetings booked', count(m.meetings)], ['Won deals', count(m.won_deals)],
      ['Follow-ups to close, per won deal', num2(m.follow_ups_per_won_deal)],
      ['Attempts before first contact', num2(m.attempts_before_first_contact)],
      ['Callbacks per voicemail', num2(m.callbacks_per_voicemail)],
    ];
    $('measures').replaceChildren(...items.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))));
  }

  // ------------------------------------------------------------ load

  async function load() {
    const from = $('stats-from').value, to = $('stats-to').value;
    $('stats-error').textContent = '';
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    const { status, body } = await get('/v1/stats?' + q.toString());
    if (status !== 200) {
      $('stats-error').textContent = body && body.error ? 'Cannot show these dates: ' + body.error + '.' : 'Statistics unavailable (' + status + ').';
      return;
    }
    $('stats-range-text').textContent = `${body.from} to ${body.to} (${body.days} days, each lead's local date)`;
    renderMeasures(body.measures);
    lastWidth = $('activity-chart').clientWidth;
    drawActivity(body.by_day);
    drawSteps(body.by_step.filter((r) => r.step !== 'follow_up'));
    renderReps(body.by_rep);
    renderSteps(body.by_step);
    last = body;
    document.body.dataset.statsLoaded = body.from + '..' + body.to;
  }

  // Charts follow the page's width (a phone turned, a window resized).
  let last = null, resizeTimer = null, lastWidth = 0;
  function redraw() {
    const w = $('activity-chart').clientWidth;
    if (!last || Math.abs(w - lastWidth) < 20) return;
    lastWidth = w;
    drawActivity(last.by_day);
    drawSteps(last.by_step.filter((r) => r.step !== 'follow_up'));
  }

  // ------------------------------------------------------------ one rep's queue and feed

  async function openRep(rep) {
    const panel = $('rep-detail');
    panel.hidden = false;
    $('rep-detail-name').textContent = rep;
    const { status, body } = await get('/v1/queue?rep=' + encodeURIComponent(rep));
    const tb = $('rep-queue').querySelector('tbody');
    if (status !== 200) tb.replaceChildren(el('tr', {}, el('td', { colspan: 4 }, 'Queue unavailable (' + status + ').')));
    else if (!body.tasks.length) tb.replaceChildren(el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'Nothing due today ' + DASH)));
    else tb.replaceChildren(...body.tasks.map((t) => {
      const task = t.task || {};
      const lead = task.lead || {};
      return el('tr', {}, el('td', { class: t.overdue ? 'overdue' : '' }, new Date(t.due_ms).toLocaleString()),
        el('td', {}, [lead.first_name, lead.last_name].filter(Boolean).join(' ') || task.lead_id || DASH),
        el('td', {}, task.channel || DASH), el('td', {}, task.objective ? task.objective.replace(/_/g, ' ') : DASH));
    }));
    streamFeed(rep);
    panel.scrollIntoView({ block: 'nearest' });
  }

  async function streamFeed(rep) {
    if (feedAbort) feedAbort.abort();
    const abort = new AbortController();
    feedAbort = abort;
    const list = $('rep-alerts');
    list.replaceChildren();
    $('rep-feed-state').textContent = 'connecting…';
    let delay = 1000;
    while (!abort.signal.aborted) {
      try {
        const res = await fetch('/v1/alerts/stream?rep=' + encodeURIComponent(rep), {
          headers: Session.headers({ Accept: 'text/event-stream' }), signal: abort.signal, cache: 'no-store' });
        if (res.status !== 200) throw new Error('status ' + res.status);
        $('rep-feed-state').textContent = 'live';
        delay = 1000;
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
            const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
            if (!data) continue;
            let a;
            try { a = JSON.parse(data); } catch (e) { continue; }
            const lead = a.lead || {};
            list.prepend(el('li', {}, (a.reason || '').replace(/_/g, ' '), ': ',
              [lead.first_name, lead.last_name].filter(Boolean).join(' ') || a.lead_id,
              a.trigger && a.trigger.occurred_at ? ' · ' + new Date(a.trigger.occurred_at).toLocaleString() : ''));
          }
        }
      } catch (e) {
        if (abort.signal.aborted) return;
      }
      $('rep-feed-state').textContent = 'reconnecting…';
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30000);
    }
  }

  // ------------------------------------------------------------ wiring

  let wired = false;
  function show() {
    if (!wired) {
      wired = true;
      $('stats-range').addEventListener('submit', (e) => { e.preventDefault(); load(); });
      for (const b of document.querySelectorAll('#stats-range [data-days]'))
        b.addEventListener('click', () => { setRange(Number(b.dataset.days)); load(); });
      $('rep-detail-close').addEventListener('click', () => { if (feedAbort) feedAbort.abort(); $('rep-detail').hidden = true; });
      setRange(30);
      window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(redraw, 150); });
    }
    load();
  }

  window.cadenceStats = { show, load };
})();
