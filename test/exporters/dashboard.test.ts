import t from 'tap';

import { OBSERVABLE_TASK_STATUSES } from '../../lib/index.js';
import {
  displayData,
  filterQuery,
  formatAge,
  formatTime,
  renderDashboard,
  summaryText,
  type DashboardView,
} from '../../exporters/http/dashboard.js';
import { parseTaskFilters } from '../../exporters/http/task-rows.js';

t.test('formatAge()', async (t) => {
  t.equal(formatAge(0.25), '250ms');
  t.equal(formatAge(12.34), '12.3s');
  t.equal(formatAge(245), '4m 05s');
  t.equal(formatAge(2 * 3600 + 3 * 60 + 9), '2h 03m');
  t.equal(formatAge(3 * 86400 + 4 * 3600), '3d 04h');
});

t.test('formatTime()', async (t) => {
  t.equal(formatTime('2026-01-02T03:04:05.678Z'), '2026-01-02 03:04:05Z');
});

t.test('displayData()', async (t) => {
  t.equal(displayData(null), '');
  t.equal(displayData({ a: 1 }), '{"a":1}');
  const long = displayData({ text: 'x'.repeat(500) });
  t.equal(long.length, 161);
  t.ok(long.endsWith('…'));
  // A cut that would fall between the halves of a surrogate pair moves before it.
  const emoji = displayData(`${'a'.repeat(158)}😀😀`);
  t.equal(emoji, `"${'a'.repeat(158)}…`);
});

t.test('parseTaskFilters() and filterQuery()', async (t) => {
  t.same(parseTaskFilters(new URLSearchParams('status=running&category=a&table=b')), {
    status: 'running',
    category: 'a',
    table: 'b',
  });
  t.same(parseTaskFilters(new URLSearchParams('status=&category=')), {});
  t.match(parseTaskFilters(new URLSearchParams('status=nope')), /status must be one of/);
  t.match(parseTaskFilters(new URLSearchParams('category=a&category=b')), /at most once/);
  t.match(parseTaskFilters(new URLSearchParams(`category=${'x'.repeat(1025)}`)), /too long/);
  t.equal(filterQuery({}), '');
  t.equal(
    filterQuery({ status: 'failed', category: 'a b', table: 't' }),
    '?status=failed&category=a+b&table=t',
  );
});

t.test('renderDashboard()', async (t) => {
  const view: DashboardView = {
    collectedAt: '2026-01-02T03:04:05.000Z',
    total: 3,
    tables: [
      { table: 'one', state: 'ok', error: null },
      { table: 'two<', state: 'corrupt', error: 'bad "header"' },
    ],
    rows: [
      {
        table: 'one',
        id: '0:1',
        slot: 0,
        status: 'running',
        category: 'c',
        name: 'n',
        modifiedAt: '2026-01-02T03:04:00.000Z',
        progress: null,
        ageSeconds: 5,
        data: '',
        overdue: true,
      },
    ],
  };
  const html = renderDashboard(view, { table: 'two<' }, ['c'], 5);
  t.match(html, '<tr data-status="running" class="overdue">');
  t.match(html, '<span class="flag">overdue</span>');
  t.match(html, '<span class="muted">—</span>');
  t.match(
    html,
    '<li class="table-state state-corrupt"><strong>two&lt;</strong> corrupt: bad &quot;header&quot;</li>',
  );
  t.match(
    html,
    '<select name="table"><option value="">any</option><option value="one">one</option>',
  );
  t.match(html, '<option value="two&lt;" selected>two&lt;</option>');
  for (const status of OBSERVABLE_TASK_STATUSES) t.match(html, `<option value="${status}">`);
  t.equal(summaryText(view), '1 of 3 tasks · collected 2026-01-02 03:04:05Z');
  t.equal(summaryText({ ...view, total: 1 }), '1 task · collected 2026-01-02 03:04:05Z');
});
