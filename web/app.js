// The gamepipe dashboard: one page per hash route (#/overview, #/funnel, …), each reading the
// JSON API of the server that serves it (same origin, session cookie). Charts: ECharts, served
// from the installed package. No build step, no external resource.

const PAGES = [
  ['overview', 'Overview'],
  ['retention', 'Retention'],
  ['monetization', 'Monetization'],
  ['economy', 'Economy'],
  ['funnel', 'Level funnel'],
  ['live', 'Live'],
  ['operations', 'Operations'],
];

const state = { session: null, games: [], game: '', from: '', to: '', timers: [], charts: [] };
const main = document.getElementById('main');

// ---- small helpers -------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

const fmt = (v, digits = 2) => {
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: digits });
};
const pct = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`);

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error + (body.issues ? ': ' + body.issues.join('; ') : '') : `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const res = await fetch(path, { credentials: 'same-origin', headers: options.body ? { 'content-type': 'application/json' } : {}, ...options });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/api/session')) showSignIn();
    throw new ApiError(res.status, body);
  }
  return body;
}

function message(text, kind = '') {
  return el('p', { class: `message ${kind}`.trim(), role: kind === 'error' ? 'alert' : 'status' }, text);
}

function rangeQuery(extra = {}) {
  const p = new URLSearchParams({ from: state.from, to: state.to, ...extra });
  return p.toString();
}

function chart(options, height) {
  const box = el('div', { class: 'chart', ...(height ? { style: `height:${height}px` } : {}) });
  pendingCharts.push(() => {
    const c = window.echarts.init(box, null, { renderer: 'canvas' });
    c.setOption({ animation: false, tooltip: { trigger: 'axis' }, grid: { left: 60, right: 50, top: 45, bottom: 55 }, ...options });
    state.charts.push(c);
  });
  return box;
}

/** Charts are drawn once their boxes are in the page (ECharts measures them). */
const pendingCharts = [];
function drawCharts() {
  for (const draw of pendingCharts.splice(0)) draw();
}

/** A table; each cell carries its raw value in data-value (what tests and copy-paste read). */
function table(columns, rows, id) {
  return el(
    'div',
    { class: 'scroll' },
    el(
      'table',
      { id },
      el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c.label)))),
      el(
        'tbody',
        {},
        rows.map((r) =>
          el(
            'tr',
            {},
            columns.map((c) => {
              const v = typeof c.value === 'function' ? c.value(r) : r[c.key];
              const shown = c.render ? c.render(v, r) : fmt(v);
              return el('td', { dataset: { key: c.key, value: v === null || v === undefined ? '' : String(v) }, class: c.class }, shown);
            }),
          ),
        ),
      ),
    ),
  );
}

function csvLink(path, extra = {}) {
  return el('a', { href: `${path}?${rangeQuery({ ...extra, format: 'csv' })}`, download: '', class: 'csv' }, 'Download CSV');
}

/** The page's standard message for the answer's missing days, and whether it has anything to show. */
function coverage(answer, hasRows) {
  if (!hasRows && answer.missingDays && answer.missingDays.length) {
    return message(`No data for ${state.game} from ${state.from} to ${state.to}: these days are not computed yet (${answer.missingDays.join(', ')}). Run the daily pipeline for them from Operations.`);
  }
  if (!hasRows) return message(`No data for ${state.game} from ${state.from} to ${state.to}.`);
  if (answer.missingDays && answer.missingDays.length) return message(`Not computed yet: ${answer.missingDays.join(', ')} (shown without them).`, 'info');
  return null;
}

// ---- session -------------------------------------------------------------------------------

function showSignIn(error) {
  clearTimers();
  const input = el('input', { type: 'password', name: 'token', autocomplete: 'off', placeholder: 'gp_…', required: true });
  const form = el(
    'form',
    {
      class: 'signin',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api('/api/session', { method: 'POST', body: JSON.stringify({ token: input.value.trim() }) });
          await start();
        } catch (err) {
          showSignIn(err.message);
        }
      },
    },
    el('h1', {}, 'Sign in'),
    el('p', {}, 'Paste a read or admin token (npx gamepipe token create --role read --name me). The browser keeps a session cookie; the token is not stored.'),
    input,
    el('button', { type: 'submit' }, 'Sign in'),
    error ? message(error, 'error') : null,
  );
  main.replaceChildren(form);
}

function renderWho() {
  const who = document.getElementById('who');
  const s = state.session;
  who.replaceChildren(
    s.signedIn ? `${s.name} (${s.role})` : 'public read',
    s.signedIn
      ? el('button', { type: 'button', onclick: async () => { await api('/api/session', { method: 'DELETE' }); location.reload(); } }, 'Sign out')
      : null,
  );
}

// ---- pages ---------------------------------------------------------------------------------

const KPI_TILES = [
  ['dau', 'DAU (mean)'],
  ['nru', 'NRU'],
  ['pu', 'PU (mean)'],
  ['npu', 'NPU'],
  ['revenueUsd', 'Revenue USD'],
  ['arpu', 'ARPU'],
  ['arppu', 'ARPPU'],
];

async function overviewPage() {
  const o = await api(`/api/games/${encodeURIComponent(state.game)}/overview?${rangeQuery()}`);
  const note = coverage(o, o.days.length > 0);
  if (!o.days.length) return [el('h1', {}, 'Overview'), note];
  const days = o.days.map((d) => d.ds);
  return [
    el('h1', {}, 'Overview'),
    note,
    el(
      'div',
      { class: 'tiles', id: 'tiles' },
      KPI_TILES.map(([key, label]) => {
        const change = o.change[key];
        return el(
          'div',
          { class: 'tile', dataset: { kpi: key, value: String(o.tiles[key] ?? '') } },
          el('div', { class: 'label' }, label),
          el('div', { class: 'value' }, fmt(o.tiles[key])),
          el('div', { class: change === null ? '' : change >= 0 ? 'up' : 'down' }, change === null ? 'no previous period' : `${change >= 0 ? '▲' : '▼'} ${pct(Math.abs(change))} vs ${o.previous.from} … ${o.previous.to}`),
        );
      }),
    ),
    el('div', { class: 'grid2' },
      chart({ title: { text: 'Daily users' }, legend: { bottom: 0 }, xAxis: { type: 'category', data: days }, yAxis: { type: 'value' },
        series: [{ name: 'DAU', type: 'line', data: o.days.map((d) => d.dau) }, { name: 'NRU', type: 'line', data: o.days.map((d) => d.nru) }, { name: 'PU', type: 'line', data: o.days.map((d) => d.pu) }] }),
      chart({ title: { text: 'Revenue (USD) and ARPU' }, legend: { bottom: 0 }, xAxis: { type: 'category', data: days }, yAxis: [{ type: 'value' }, { type: 'value' }],
        series: [{ name: 'Revenue', type: 'bar', data: o.days.map((d) => d.revenueUsd) }, { name: 'ARPU', type: 'line', yAxisIndex: 1, data: o.days.map((d) => d.arpu) }] }),
    ),
    el('h2', {}, 'Per day ', csvLink(`/api/games/${encodeURIComponent(state.game)}/overview`)),
    table(
      [{ key: 'ds', label: 'Day' }, { key: 'dau', label: 'DAU' }, { key: 'nru', label: 'NRU' }, { key: 'pu', label: 'PU' }, { key: 'npu', label: 'NPU' },
        { key: 'revenueUsd', label: 'Revenue USD' }, { key: 'arpu', label: 'ARPU' }, { key: 'arppu', label: 'ARPPU' }],
      o.days,
      'overview-days',
    ),
    el('div', { class: 'grid2' },
      chart({ title: { text: 'Daily users by country (sum of days)' }, tooltip: { trigger: 'item' }, xAxis: { type: 'category', data: o.byCountry.slice(0, 15).map((c) => c.countryCode) }, yAxis: { type: 'value' },
        series: [{ type: 'bar', data: o.byCountry.slice(0, 15).map((c) => c.userDays) }] }),
      chart({ title: { text: 'Daily users by platform (sum of days)' }, tooltip: { trigger: 'item' },
        series: [{ type: 'pie', radius: '60%', data: o.byPlatform.map((p) => ({ name: p.platform, value: p.userDays })) }] }),
    ),
  ];
}

async function retentionPage() {
  const r = await api(`/api/games/${encodeURIComponent(state.game)}/retention?${rangeQuery()}`);
  const note = coverage(r, r.cells.length > 0);
  if (!r.cells.length) return [el('h1', {}, 'Retention'), note];
  const cohorts = [...new Set(r.cells.map((c) => c.cohortDs))].sort();
  const dayNs = [...new Set(r.cells.map((c) => c.dayN))].sort((a, b) => a - b);
  const size = new Map(r.cells.map((c) => [c.cohortDs, c.cohortSize]));
  return [
    el('h1', {}, 'Retention'),
    note,
    chart({
      title: { text: 'Cohort retention by install day (D1…D30)' },
      tooltip: { position: 'top', formatter: (p) => `${cohorts[p.value[1]]} D${dayNs[p.value[0]]}: ${pct(p.value[2])}` },
      xAxis: { type: 'category', data: dayNs.map((d) => `D${d}`) },
      yAxis: { type: 'category', data: cohorts },
      visualMap: { min: 0, max: 1, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, show: false },
      series: [{ type: 'heatmap', data: r.cells.map((c) => [dayNs.indexOf(c.dayN), cohorts.indexOf(c.cohortDs), c.rate]), label: { show: true, formatter: (p) => pct(p.value[2]) } }],
    }, Math.max(260, cohorts.length * 32 + 80)),
    el('h2', {}, 'Cells ', csvLink(`/api/games/${encodeURIComponent(state.game)}/retention`)),
    table(
      [{ key: 'cohortDs', label: 'Install day' }, { key: 'cohortSize', label: 'Cohort', value: (c) => size.get(c.cohortDs) }, { key: 'dayN', label: 'Day N' },
        { key: 'retained', label: 'Retained' }, { key: 'rate', label: 'Rate', render: pct }],
      r.cells,
      'retention-cells',
    ),
  ];
}

async function monetizationPage() {
  const m = await api(`/api/games/${encodeURIComponent(state.game)}/monetization?${rangeQuery()}`);
  const has = m.revenue.length + m.shop.length + m.offers.length > 0;
  const note = coverage(m, has);
  if (!has) return [el('h1', {}, 'Monetization'), note];
  const f = m.shopFunnel;
  return [
    el('h1', {}, 'Monetization'),
    note,
    el('div', { class: 'grid2' },
      chart({ title: { text: 'VIP tiers (players)' }, tooltip: { trigger: 'item' }, series: [{ type: 'pie', radius: '60%', data: m.vipTiers.map((t) => ({ name: t.vipTier, value: t.users })) }] }),
      chart({ title: { text: 'Revenue and cumulative revenue (USD)' }, legend: { bottom: 0 }, xAxis: { type: 'category', data: m.revenue.map((r) => r.ds) }, yAxis: [{ type: 'value' }, { type: 'value' }],
        series: [{ name: 'Revenue', type: 'bar', data: m.revenue.map((r) => r.revenueUsd) }, { name: 'Cumulative', type: 'line', yAxisIndex: 1, data: m.revenue.map((r) => r.cumulativeRevenueUsd) }] }),
      chart({ title: { text: 'GMV (USD) and growth vs previous day' }, legend: { bottom: 0 }, xAxis: { type: 'category', data: m.shop.map((r) => r.ds) }, yAxis: [{ type: 'value' }, { type: 'value', axisLabel: { formatter: (v) => pct(v) } }],
        series: [{ name: 'GMV', type: 'bar', data: m.shop.map((r) => r.gmvUsd) }, { name: 'Growth', type: 'line', yAxisIndex: 1, data: m.shop.map((r) => r.gmvGrowth) }] }),
      chart({ title: { text: 'Shop funnel (sessions)' }, tooltip: { trigger: 'item' }, series: [{ type: 'funnel', sort: 'none', data: [
        { name: 'Sessions', value: f.sessions }, { name: 'Viewed', value: f.sessionsWithView }, { name: 'Clicked', value: f.sessionsWithClick }, { name: 'Ordered', value: f.sessionsWithOrder }] }] }),
    ),
    chart({ title: { text: 'Hourly patterns (UTC)' }, legend: { bottom: 0 }, xAxis: { type: 'category', data: m.hourly.map((h) => h.hour) }, yAxis: [{ type: 'value' }, { type: 'value' }],
      series: [{ name: 'Purchases', type: 'bar', data: m.hourly.map((h) => h.purchases) }, { name: 'Revenue USD', type: 'line', yAxisIndex: 1, data: m.hourly.map((h) => h.revenueUsd) }] }),
    el('h2', {}, 'Offers, ranked by GMV ', csvLink(`/api/games/${encodeURIComponent(state.game)}/monetization`)),
    table(
      [{ key: 'rankByGmv', label: 'Rank' }, { key: 'offerId', label: 'Offer' }, { key: 'views', label: 'Views' }, { key: 'clicks', label: 'Clicks' }, { key: 'orders', label: 'Orders' },
        { key: 'gmvUsd', label: 'GMV USD' }, { key: 'ctr', label: 'CTR', render: pct }, { key: 'conversion', label: 'Conversion', render: pct }],
      m.offers,
      'offers',
    ),
  ];
}

async function economyPage() {
  const e = await api(`/api/games/${encodeURIComponent(state.game)}/economy?${rangeQuery()}`);
  const has = e.itemsByReason.length + e.currencyByReason.length > 0;
  const note = coverage(e, has);
  if (!has) return [el('h1', {}, 'Economy'), note];
  const reasons = [...new Set(e.currencyByReason.map((c) => c.reason))];
  const currencies = [...new Set(e.balance.map((b) => b.currency))];
  const days = [...new Set(e.balance.map((b) => b.ds))];
  const dir = (d) => reasons.map((r) => e.currencyByReason.filter((c) => c.reason === r && c.direction === d).reduce((s, c) => s + c.amount, 0));
  return [
    el('h1', {}, 'Economy'),
    note,
    el('div', { class: 'grid2' },
      chart({ title: { text: 'Currency gain vs spend by reason' }, legend: { bottom: 0 }, xAxis: { type: 'category', data: reasons, axisLabel: { rotate: 30 } }, yAxis: { type: 'value' },
        series: [{ name: 'gain', type: 'bar', data: dir('gain') }, { name: 'spend', type: 'bar', data: dir('spend') }] }),
      chart({ title: { text: 'Key items: gained vs spent' }, legend: { bottom: 0 }, xAxis: { type: 'category', data: e.keyItems.map((i) => i.itemId), axisLabel: { rotate: 30 } }, yAxis: { type: 'value' },
        series: [{ name: 'gained', type: 'bar', data: e.keyItems.map((i) => i.gained) }, { name: 'spent', type: 'bar', data: e.keyItems.map((i) => i.spent) }] }),
    ),
    chart({ title: { text: 'Currency balance change since the range start (gain − spend, cumulative)' }, legend: { bottom: 0 }, xAxis: { type: 'category', data: days }, yAxis: { type: 'value' },
      series: currencies.map((c) => ({ name: c, type: 'line', data: days.map((d) => e.balance.find((b) => b.ds === d && b.currency === c)?.cumulativeNet ?? null) })) }),
    el('h2', {}, 'Currencies by reason ', csvLink(`/api/games/${encodeURIComponent(state.game)}/economy`)),
    table([{ key: 'currency', label: 'Currency' }, { key: 'direction', label: 'Direction' }, { key: 'reason', label: 'Reason' }, { key: 'amount', label: 'Amount' }, { key: 'users', label: 'Player-days' }], e.currencyByReason, 'currencies'),
    el('h2', {}, 'Items by reason'),
    table([{ key: 'direction', label: 'Direction' }, { key: 'reason', label: 'Reason' }, { key: 'quantity', label: 'Quantity' }, { key: 'users', label: 'Player-days' }], e.itemsByReason, 'items'),
  ];
}

const FUNNEL_FILTERS = [
  ['platform', 'Platform'],
  ['country', 'Country'],
  ['appVersion', 'App version'],
  ['levelFunnel', 'Level funnel'],
  ['levelFunnelVersion', 'Funnel version'],
];
/** Free inputs of the funnel page: the install cohort, exact funnel pairs and the level limit (API parameters). */
const FUNNEL_INPUTS = [
  ['installFrom', 'Installed from', 'date', ''],
  ['installTo', 'Installed to', 'date', ''],
  ['funnel', 'Funnel:version pairs', 'text', 'live_v1:15,live_v2:16'],
  ['levelLimit', 'Levels shown', 'number', '100'],
];
const funnelSelection = {};

async function funnelPage() {
  const base = `/api/games/${encodeURIComponent(state.game)}/level-funnel`;
  const values = await api(`${base}/filters?${rangeQuery()}`);
  const params = new URLSearchParams({ from: state.from, to: state.to });
  for (const [name] of FUNNEL_FILTERS) for (const v of funnelSelection[name] ?? []) if (values[name].includes(v)) params.append(name, v);
  for (const [name] of FUNNEL_INPUTS) if (funnelSelection[name]) params.set(name, funnelSelection[name]);
  const query = params.toString();
  const selects = FUNNEL_FILTERS.map(([name, label]) =>
    el('label', {}, label, el('br'),
      el('select', { multiple: true, name, id: `filter-${name}`, onchange: (ev) => { funnelSelection[name] = [...ev.target.selectedOptions].map((o) => o.value); render(); } },
        values[name].map((v) => el('option', { value: v, selected: (funnelSelection[name] ?? []).includes(v) }, v)))));
  const inputs = FUNNEL_INPUTS.map(([name, label, type, placeholder]) =>
    el('label', {}, label, el('br'),
      el('input', { type, name, id: `filter-${name}`, value: funnelSelection[name] ?? '', placeholder,
        onchange: (ev) => { funnelSelection[name] = ev.target.value.trim(); render(); } })));
  const head = [
    el('h1', {}, 'Level funnel'),
    el('div', { class: 'toolbar' }, selects, inputs,
      el('button', { type: 'button', onclick: () => { for (const [n] of FUNNEL_FILTERS) funnelSelection[n] = []; for (const [n] of FUNNEL_INPUTS) funnelSelection[n] = ''; render(); } }, 'Clear filters')),
  ];
  let answer;
  try {
    answer = await api(`${base}?${query}`);
  } catch (err) {
    if (err.status === 404) return [...head, message(`The level funnel of ${state.game} is not aggregated yet: ${err.message}. Start a "funnel" run from Operations.`)];
    if (err.status === 400) return [...head, message(err.message, 'error')];
    throw err;
  }
  const levels = answer.levels;
  const links = el('p', {},
    el('a', { href: `${base}?${query}&format=csv`, download: '', class: 'csv' }, 'Download CSV'), ' · ',
    el('a', { href: `${base}?${query}&method=raw`, target: '_blank', id: 'raw-link' }, "The raw method's answer (computed from silver; same numbers, slower)"),
    ` · answered by the ${answer.method} path`);
  if (!levels.length) return [...head, links, message(`No level events for ${state.game} from ${state.from} to ${state.to} with these filters.`)];
  return [
    ...head,
    answer.missingDays && answer.missingDays.length ? message(`Not aggregated yet: ${answer.missingDays.join(', ')} (shown without them).`, 'info') : null,
    links,
    chart({
      title: { text: 'Players per level and funnel rate' }, legend: { bottom: 0 },
      xAxis: { type: 'category', data: levels.map((l) => l.levelId) }, yAxis: [{ type: 'value' }, { type: 'value', max: 1, axisLabel: { formatter: (v) => pct(v) } }],
      series: [
        { name: 'Started players', type: 'bar', data: levels.map((l) => l.startedPlayers) },
        { name: 'Completed players', type: 'bar', data: levels.map((l) => l.completedPlayers) },
        { name: 'Funnel rate', type: 'line', yAxisIndex: 1, data: levels.map((l) => l.funnelRate) },
        { name: 'Win rate', type: 'line', yAxisIndex: 1, data: levels.map((l) => l.winRate) },
      ],
    }, 340),
    table(
      [['levelId', 'Level'], ['starts', 'Starts'], ['completes', 'Completes'], ['fails', 'Fails'], ['startedPlayers', 'Started pl.'], ['completedPlayers', 'Completed pl.'],
        ['nextLevelStartedPlayers', 'Next started pl.'], ['churnStartComplete', 'Churn start→complete'], ['churnCompleteNext', 'Churn complete→next'], ['churnTotal', 'Churn total'],
        ['boosterUsage', 'Booster usage'], ['egpRate', 'EGP rate'], ['winRate', 'Win rate'], ['failRate', 'Fail rate'], ['completionRate', 'Completion rate'], ['funnelRate', 'Funnel rate'],
        ['apsRaw', 'APS raw'], ['apsClean', 'APS clean'], ['meanCompletionDuration', 'Mean completion s'], ['meanFailDuration', 'Mean fail s'],
        ['cumulativeAvgTime', 'Cumulative time s'], ['horizonPlayers', 'First starts (7 d observed)'], ['churnD3', 'Churn D3'], ['churnD7', 'Churn D7']].map(([key, label]) => ({ key, label, render: (v) => fmt(v, 4) })),
      levels,
      'funnel-levels',
    ),
  ];
}

async function livePage() {
  const box = el('div', { id: 'live' }, message('Waiting for the stream…', 'info'));
  const refresh = async () => {
    try {
      const [m, lag] = await Promise.all([api(`/api/realtime/minutes?${new URLSearchParams({ game: state.game })}`), api('/api/realtime/lag')]);
      const minutes = m.minutes;
      if (!minutes.length) {
        box.replaceChildren(message(`No stream minutes for ${state.game} yet. Start the stream (npx gamepipe stream …, or serve --live-demo) and this page updates by itself.`));
        return;
      }
      const last = minutes[minutes.length - 1];
      const lastCountries = m.byCountry.filter((c) => c.windowStart === last.windowStart).sort((a, b) => b.revenueUsd - a.revenueUsd);
      state.charts.forEach((c) => c.dispose());
      state.charts = [];
      box.replaceChildren(
        el('div', { class: 'tiles' },
          el('div', { class: 'tile', id: 'newest-minute', dataset: { value: last.windowStart } }, el('div', { class: 'label' }, 'Newest minute (UTC)'), el('div', { class: 'value' }, last.windowStart.slice(11, 16)), el('div', {}, last.windowStart.slice(0, 10))),
          el('div', { class: 'tile' }, el('div', { class: 'label' }, 'Revenue USD, newest minute'), el('div', { class: 'value' }, fmt(last.revenueUsd))),
          el('div', { class: 'tile' }, el('div', { class: 'label' }, 'Purchases, newest minute'), el('div', { class: 'value' }, fmt(last.purchases))),
          el('div', { class: 'tile' }, el('div', { class: 'label' }, 'Active players, newest minute'), el('div', { class: 'value' }, fmt(last.activeUsers))),
          el('div', { class: 'tile', id: 'late-events', dataset: { value: String(m.late.events) } }, el('div', { class: 'label' }, 'Late events (range)'), el('div', { class: 'value' }, fmt(m.late.events)), el('div', {}, `${fmt(m.late.revenueUsd)} USD`)),
        ),
        chart({ title: { text: 'Per minute' }, legend: { bottom: 0 }, xAxis: { type: 'category', data: minutes.map((x) => x.windowStart.slice(11, 16)) }, yAxis: [{ type: 'value' }, { type: 'value' }],
          series: [{ name: 'Revenue USD', type: 'bar', data: minutes.map((x) => x.revenueUsd) }, { name: 'Purchases', type: 'line', yAxisIndex: 1, data: minutes.map((x) => x.purchases) },
            { name: 'Active players', type: 'line', yAxisIndex: 1, data: minutes.map((x) => x.activeUsers) }] }),
        el('div', { class: 'grid2' },
          el('div', {}, el('h2', {}, `Revenue by country, ${last.windowStart.slice(11, 16)}`),
            table([{ key: 'countryCode', label: 'Country' }, { key: 'countryName', label: 'Name' }, { key: 'purchases', label: 'Purchases' }, { key: 'revenueUsd', label: 'Revenue USD' }], lastCountries, 'live-countries')),
          el('div', {}, el('h2', {}, 'Consumer lag'),
            table([{ key: 'groupId', label: 'Group' }, { key: 'partition', label: 'Partition' }, { key: 'nextOffset', label: 'Next offset' },
              { key: 'eventTimeLagSeconds', label: 'Event time behind now (s)', render: (v) => fmt(v, 0) }, { key: 'updatedSecondsAgo', label: 'Updated (s ago)', render: (v) => fmt(v, 0) }], lag, 'live-lag')),
        ),
        el('p', {}, `Updates every 3 s. Minutes before ${m.closedBefore ?? '–'} are closed (no on-time event can change them).`),
      );
      if (box.isConnected) drawCharts();
    } catch (err) {
      box.replaceChildren(message(`The live query failed: ${err.message}`, 'error'));
    }
  };
  await refresh();
  state.timers.push(setInterval(refresh, 3000));
  return [el('h1', {}, 'Live'), box];
}

async function operationsPage() {
  const admin = state.session.role === 'admin';
  const [runs, schedules, quality, freshness, launched] = await Promise.all([
    api('/api/runs?limit=200'), api('/api/schedules'), api(`/api/quality?${rangeQuery()}`), api('/api/level-funnel/freshness'), api('/api/runs/launched'),
  ]);
  const layoutBox = el('div', { id: 'layout' });
  const showLayout = async (r) => {
    try {
      const l = await api(`/api/pipelines/${encodeURIComponent(r.pipeline)}/jobs/${encodeURIComponent(r.job)}/layout`);
      layoutBox.replaceChildren(el('h2', {}, `Layout of ${r.job} (${l.file})`), el('pre', { class: 'layout' }, l.text));
    } catch (err) {
      layoutBox.replaceChildren(message(`No layout for ${r.pipeline}/${r.job}: ${err.message}`, 'error'));
    }
  };
  const launch = async (body) => {
    try {
      await api('/api/runs', { method: 'POST', body: JSON.stringify(body) });
      render();
    } catch (err) {
      launchMsg.replaceChildren(message(`Could not start: ${err.message}`, 'error'));
    }
  };
  const launchMsg = el('div');
  const pipeline = el('select', { name: 'pipeline', id: 'run-pipeline' }, el('option', { value: 'daily' }, 'daily'), el('option', { value: 'funnel' }, 'funnel (level funnel)'));
  const from = el('input', { type: 'date', name: 'from', id: 'run-from', value: state.to, required: true });
  const to = el('input', { type: 'date', name: 'to', id: 'run-to', value: state.to, required: true });
  const form = admin
    ? el('form', { class: 'toolbar', id: 'start-run', onsubmit: (e) => { e.preventDefault(); launch({ pipeline: pipeline.value, from: from.value, to: to.value }); } },
        el('label', {}, 'Pipeline ', pipeline), el('label', {}, 'From ', from), el('label', {}, 'To ', to), el('button', { type: 'submit' }, 'Start run / backfill'))
    : message('Sign in with an admin token to start runs, backfills and retries.', 'info');
  const active = launched.some((r) => r.status === 'running');
  if (active) state.timers.push(setTimeout(render, 2000));
  const timed = runs.filter((r) => r.ended_at);
  return [
    el('h1', {}, 'Operations'),
    el('h2', {}, 'Start a run'),
    form,
    launchMsg,
    launched.length
      ? table(
          [{ key: 'pipeline', label: 'Pipeline' }, { key: 'from', label: 'From' }, { key: 'to', label: 'To' }, { key: 'retry', label: 'Retry', render: (v) => (v ? 'yes' : '') },
            { key: 'status', label: 'Status', render: (v) => el('span', { class: `status-${v}` }, v) },
            { key: 'done', label: 'Progress', render: (v, r) => el('span', {}, el('progress', { max: String(r.total || 1), value: String(v) }), ` ${v}/${r.total}${r.failed ? ` (${r.failed} failed)` : ''}`) },
            { key: 'startedAt', label: 'Started' }, { key: 'error', label: 'Error', class: 'error' }],
          launched,
          'launched-runs',
        )
      : null,
    el('h2', {}, 'Runs timeline'),
    timed.length
      ? chart({
          title: { text: 'Job durations (s) by start time' }, tooltip: { trigger: 'item', formatter: (p) => `${p.data.name}<br>${p.data.value[0]}: ${p.data.value[1]} s` },
          xAxis: { type: 'time' }, yAxis: { type: 'value', name: 's' },
          series: ['succeeded', 'failed', 'skipped'].map((status) => ({ name: status, type: 'scatter', data: timed.filter((r) => r.status === status).map((r) => ({
            name: `${r.pipeline}/${r.job} ${Object.values(r.vars).join(',')}`, value: [r.started_at, (Date.parse(r.ended_at) - Date.parse(r.started_at)) / 1000] })) })),
        })
      : message('No runs yet.'),
    el('h2', {}, 'Recent runs'),
    table(
      [{ key: 'started_at', label: 'Started', render: (v) => v.slice(0, 19).replace('T', ' ') }, { key: 'pipeline', label: 'Pipeline' }, { key: 'job', label: 'Job' },
        { key: 'vars', label: 'Vars', render: (v) => Object.entries(v).map(([k, x]) => `${k}=${x}`).join(',') },
        { key: 'status', label: 'Status', render: (v) => el('span', { class: `status-${v}` }, v) },
        { key: 'duration', label: 'Seconds', value: (r) => (r.ended_at ? (Date.parse(r.ended_at) - Date.parse(r.started_at)) / 1000 : null) },
        { key: 'rows_written', label: 'Rows written' },
        { key: 'error', label: 'Error', class: 'error', render: (v, r) => (v ? el('span', {}, v.split('\n')[0], ' ', el('a', { href: '#', onclick: (e) => { e.preventDefault(); showLayout(r); } }, 'layout'),
          admin && r.vars.logDate ? el('button', { type: 'button', class: 'retry', onclick: () => launch({ pipeline: r.pipeline, from: r.vars.logDate, to: r.vars.logDate, retry: true }) }, 'Retry') : null) : '') }],
      runs.slice(0, 60),
      'runs',
    ),
    layoutBox,
    el('h2', {}, 'Schedules'),
    schedules.length ? table([{ key: 'schedule', label: 'Schedule' }, { key: 'next', label: 'Next fire (UTC)' }], schedules, 'schedules') : message('No schedules (serve runs without the scheduler).'),
    el('h2', {}, `Data quality per day, ${state.from} … ${state.to} `, csvLink('/api/quality')),
    quality.length
      ? [chart({ title: { text: 'Events per day' }, legend: { bottom: 0 }, xAxis: { type: 'category', data: quality.map((q) => q.ds) }, yAxis: { type: 'value' },
          series: ['valid', 'invalid', 'duplicates', 'quarantined'].map((k) => ({ name: k, type: 'bar', stack: 'all', data: quality.map((q) => q[k]) })) }),
        table([{ key: 'ds', label: 'Day' }, { key: 'raw', label: 'Raw' }, { key: 'valid', label: 'Valid' }, { key: 'invalid', label: 'Invalid' }, { key: 'duplicates', label: 'Duplicates' },
          { key: 'quarantined', label: 'Quarantined' },
          { key: 'invalidByRule', label: 'Invalid by reason', class: 'error', render: (v) => Object.entries(v).map(([k, n]) => `${k}: ${n}`).join(', ') },
          { key: 'quarantinedByReason', label: 'Quarantined by reason', class: 'error', render: (v) => Object.entries(v).map(([k, n]) => `${k}: ${n}`).join(', ') }], quality, 'quality')]
      : message(`No quality report for ${state.from} … ${state.to}: silver is not computed for these days.`),
    el('h2', {}, 'Level-funnel index freshness'),
    freshness.length
      ? table([{ key: 'gameId', label: 'Game' }, { key: 'lastDay', label: 'Newest day' }, { key: 'indexBuiltAt', label: 'Index built' }, { key: 'indexStatus', label: 'Status' }], freshness, 'freshness')
      : message('The level funnel has not been aggregated yet.'),
  ];
}

const RENDERERS = { overview: overviewPage, retention: retentionPage, monetization: monetizationPage, economy: economyPage, funnel: funnelPage, live: livePage, operations: operationsPage };

// ---- routing -------------------------------------------------------------------------------

function clearTimers() {
  for (const t of state.timers) { clearInterval(t); clearTimeout(t); }
  state.timers = [];
  for (const c of state.charts) c.dispose();
  state.charts = [];
}

function currentPage() {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0];
  return RENDERERS[name] ? name : 'overview';
}

let renderSeq = 0;
async function render() {
  const seq = ++renderSeq;
  clearTimers();
  const page = currentPage();
  document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.dataset.page === page));
  document.title = `gamepipe · ${PAGES.find((p) => p[0] === page)[1]}`;
  main.dataset.page = page;
  main.dataset.ready = 'false';
  let content;
  if (!state.game && page !== 'operations' && page !== 'live') {
    content = [message('No game has computed KPIs yet. Run the daily pipeline (npm start runs the demo) or start a run from Operations.')];
  } else {
    try {
      content = await RENDERERS[page]();
    } catch (err) {
      if (err.status === 401) return;
      content = [message(`The query failed: ${err.message}`, 'error')];
    }
  }
  if (seq !== renderSeq) {
    pendingCharts.length = 0;
    return;
  }
  main.replaceChildren(...content.flat().filter(Boolean));
  drawCharts();
  main.dataset.ready = 'true';
}

async function start() {
  state.session = await api('/api/session');
  if (!state.session.signedIn && !state.session.publicRead) return showSignIn();
  renderWho();
  state.games = await api('/api/games');
  const params = new URLSearchParams(location.search);
  const game = state.games.find((g) => g.gameId === params.get('game')) ?? state.games[0];
  const select = document.getElementById('game');
  select.replaceChildren(...state.games.map((g) => el('option', { value: g.gameId }, g.gameId)));
  if (game) {
    state.game = game.gameId;
    select.value = game.gameId;
    state.to = params.get('to') ?? game.lastDay;
    state.from = params.get('from') ?? (Date.parse(game.lastDay) - Date.parse(game.firstDay) > 6 * 86400000 ? new Date(Date.parse(game.lastDay) - 6 * 86400000).toISOString().slice(0, 10) : game.firstDay);
  } else {
    state.to = new Date().toISOString().slice(0, 10);
    state.from = state.to;
  }
  document.getElementById('from').value = state.from;
  document.getElementById('to').value = state.to;
  await render();
}

document.getElementById('nav').replaceChildren(...PAGES.map(([page, label]) => el('a', { href: `#/${page}`, dataset: { page } }, label)));
document.getElementById('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  state.game = document.getElementById('game').value;
  state.from = document.getElementById('from').value;
  state.to = document.getElementById('to').value;
  const url = new URL(location.href);
  url.search = new URLSearchParams({ game: state.game, from: state.from, to: state.to }).toString();
  history.replaceState(null, '', url);
  render();
});
window.addEventListener('hashchange', render);
window.addEventListener('resize', () => state.charts.forEach((c) => c.resize()));
start().catch((err) => main.replaceChildren(message(`The dashboard could not start: ${err.message}`, 'error')));
