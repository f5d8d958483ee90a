// Live updates for the dashboard at /observable_task_table (served as
// /assets/dashboard.js). The server renders the page; this script only replaces the table
// body, the summary and the table states with each `rows` event from /events. Table
// strings are untrusted: they reach the page through textContent and DOM properties only,
// never parsed as markup. formatTime() and formatAge() mirror dashboard.ts.

(() => {
  const table = document.getElementById('tasks');
  if (table === null || typeof EventSource !== 'function') return;
  const tbody = table.tBodies[0];
  const summary = document.getElementById('summary');
  const live = document.getElementById('live');
  const tableList = document.getElementById('tables');

  function formatTime(iso) {
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
  }

  function formatAge(seconds) {
    if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
    if (seconds < 60) return `${seconds.toFixed(1)}s`;
    const s = Math.floor(seconds);
    const pad = (n) => String(n).padStart(2, '0');
    if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
    return `${Math.floor(s / 86400)}d ${pad(Math.floor((s % 86400) / 3600))}h`;
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className !== undefined) node.className = className;
    return node;
  }

  function cell(child, className) {
    const td = element('td', undefined, className);
    if (typeof child === 'string') td.textContent = child;
    else if (child !== null) td.append(child);
    return td;
  }

  function statusClass(status) {
    // Statuses are a fixed set; anything else is shown but not used as a class name.
    return /^[a-z_]+$/.test(status) ? `status status-${status}` : 'status';
  }

  function buildRow(row) {
    const tr = element('tr');
    tr.dataset.status = row.status;
    if (row.overdue) tr.className = 'overdue';
    tr.append(cell(String(row.slot), 'num'));
    tr.append(cell(element('span', row.status, statusClass(row.status))));
    tr.append(cell(row.category));
    const name = cell(row.name, 'name');
    name.title = `${row.table} ${row.id}`;
    tr.append(name);
    const time = element('time', formatTime(row.modifiedAt));
    time.dateTime = row.modifiedAt;
    tr.append(cell(time));
    if (typeof row.progress === 'number') {
      const bar = element('progress', `${Math.round(row.progress * 100)}%`);
      bar.max = 1;
      bar.value = row.progress;
      tr.append(cell(bar));
    } else {
      tr.append(cell(element('span', '—', 'muted')));
    }
    tr.append(cell(formatAge(row.ageSeconds), 'num'));
    tr.append(cell(element('code', row.data), 'data'));
    tr.append(cell(row.overdue ? element('span', 'overdue', 'flag') : null));
    return tr;
  }

  function buildTableState(state) {
    const li = element(
      'li',
      undefined,
      `table-state state-${/^[a-z]+$/.test(state.state) ? state.state : 'error'}`,
    );
    li.append(element('strong', state.table));
    li.append(` ${state.state}${state.error === null ? '' : `: ${state.error}`}`);
    return li;
  }

  function render(view) {
    const rows = document.createDocumentFragment();
    for (const row of view.rows) rows.append(buildRow(row));
    tbody.replaceChildren(rows);
    const shown =
      view.rows.length < view.total ? `${view.rows.length} of ${view.total}` : `${view.total}`;
    summary.textContent = `${shown} task${view.total === 1 ? '' : 's'} · collected ${formatTime(view.collectedAt)}`;
    tableList.replaceChildren(...view.tables.map(buildTableState));
  }

  const source = new EventSource(table.dataset.events);
  source.addEventListener('open', () => {
    live.textContent = 'live';
  });
  source.addEventListener('error', () => {
    live.textContent = 'live updates interrupted; reconnecting…';
  });
  source.addEventListener('rows', (event) => {
    let view;
    try {
      view = JSON.parse(event.data);
    } catch {
      return;
    }
    render(view);
  });
})();
