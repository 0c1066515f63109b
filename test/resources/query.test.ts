// Collection queries over HTTP (SPEC §2): fields, every filter operator with `::` escaping, typekeys by
// code, references by id, dates, times and booleans; sort on several keys; paging, totals and links;
// the search POST; 400s naming the bad part; and that a filtered, sorted list runs on an index.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { testDatabaseKind } from '../helpers/database';
import { expectError } from '../api/expectError';
import { activityResource } from '../../src/resources/activities/definition';
import { noteResource } from '../../src/resources/notes/definition';
import { userResource } from '../../src/resources/users/definition';
import { rowKey } from '../../src/model/resource';

let t: TestApp;
const LIST = '/rest/common/v1/activities';
const PRIORITY = ['urgent', 'high', 'normal', 'low'];

interface Seed {
  id: string;
  subject: string;
  priority: string;
  dueDate?: string;
  assignedUser?: string;
}
const seeded: Seed[] = [];

function expected(pred: (s: Seed) => boolean): string[] {
  return seeded
    .filter(pred)
    .map((s) => s.id)
    .sort();
}

async function list(query: string, who: 'reader' | 'user' | 'admin' = 'reader') {
  return t.http.get(`${LIST}${query}`).set('Authorization', t.auth(who));
}

/** Ids of every item the query matches (pageSize 100 holds the whole seeded set). */
async function idsOf(query: string): Promise<string[]> {
  const res = await list(`?pageSize=100&${query}`);
  expect(res.status).toBe(200);
  return res.body.data.map((d: { attributes: { id: string } }) => d.attributes.id).sort();
}

beforeAll(async () => {
  t = await startTestApp();
  const subjects = ['Claim: A:B', 'Ratio 50% done', 'under_score', 'underXscore', 'claim lower'];
  for (let i = 1; i <= 30; i++) {
    const subject = i <= subjects.length ? subjects[i - 1] : `Task ${String(i).padStart(2, '0')}`;
    const priority = PRIORITY[i % 4];
    const dueDate = i <= 26 ? `2030-01-${String(i).padStart(2, '0')}` : undefined;
    const assignedUser = i % 2 === 0 ? t.ids.user : i % 3 === 0 ? t.ids.reader : undefined;
    const attributes: Record<string, unknown> = { subject, priority: { code: priority } };
    if (dueDate) attributes.dueDate = dueDate;
    if (assignedUser) attributes.assignedUser = { id: assignedUser };
    const res = await t.http.post(LIST).set('Authorization', t.auth('user')).send({ data: { attributes } });
    expect(res.status).toBe(201);
    seeded.push({ id: res.body.data.attributes.id, subject, priority, dueDate, assignedUser });
  }
});
afterAll(async () => {
  await t.close();
});

describe('fields on collections', () => {
  it('returns the default set, a list (plus id), or *all', async () => {
    const def = await list('?pageSize=1');
    expect(Object.keys(def.body.data[0].attributes)).toEqual(
      expect.arrayContaining(['id', 'subject', 'priority', 'status', 'createTime']),
    );
    expect(def.body.data[0].attributes.description).toBeUndefined();
    const some = await list('?pageSize=3&fields=subject,dueDate');
    for (const d of some.body.data)
      expect(Object.keys(d.attributes).every((k) => ['id', 'subject', 'dueDate'].includes(k))).toBe(true);
    expect(some.body.data[0].checksum).toBe('0');
    const all = await list('?pageSize=1&sort=-id&fields=*all');
    expect(Object.keys(all.body.data[0].attributes).sort()).toEqual([
      'assignedByUser',
      'assignedUser',
      'createTime',
      'id',
      'priority',
      'status',
      'subject',
      'updateTime',
    ]);
    const named = expectError(await list('?fields=subject,shoeSize'), 400);
    expect(named.body.userMessage).toContain('shoeSize');
  });
});

describe('filter', () => {
  it('eq / ne on text, with :: for a colon inside the value', async () => {
    expect(await idsOf('filter=subject:eq:Claim:: A::B')).toEqual(expected((s) => s.subject === 'Claim: A:B'));
    expect(await idsOf(`filter=${encodeURIComponent('subject:eq:Claim:: A::B')}`)).toHaveLength(1);
    expect(await idsOf('filter=subject:ne:Task 07')).toEqual(expected((s) => s.subject !== 'Task 07'));
  });

  it('lt gt le ge on dates; ne and ni keep items with no value', async () => {
    expect(await idsOf('filter=dueDate:lt:2030-01-05')).toEqual(
      expected((s) => !!s.dueDate && s.dueDate < '2030-01-05'),
    );
    expect(await idsOf('filter=dueDate:le:2030-01-05')).toEqual(
      expected((s) => !!s.dueDate && s.dueDate <= '2030-01-05'),
    );
    expect(await idsOf('filter=dueDate:gt:2030-01-20')).toEqual(
      expected((s) => !!s.dueDate && s.dueDate > '2030-01-20'),
    );
    expect(await idsOf('filter=dueDate:ge:2030-01-20')).toEqual(
      expected((s) => !!s.dueDate && s.dueDate >= '2030-01-20'),
    );
    expect(await idsOf('filter=dueDate:ge:2030-01-10&filter=dueDate:lt:2030-01-13')).toHaveLength(3);
    expect(await idsOf('filter=dueDate:ne:2030-01-05')).toEqual(expected((s) => s.dueDate !== '2030-01-05'));
    expect(await idsOf('filter=dueDate:in:2030-01-01,2030-01-02,2031-01-01')).toEqual(
      expected((s) => s.dueDate === '2030-01-01' || s.dueDate === '2030-01-02'),
    );
    expect(await idsOf('filter=dueDate:ni:2030-01-01,2030-01-02')).toEqual(
      expected((s) => s.dueDate !== '2030-01-01' && s.dueDate !== '2030-01-02'),
    );
  });

  it('typekeys by code with eq ne in ni', async () => {
    expect(await idsOf('filter=priority:eq:high')).toEqual(expected((s) => s.priority === 'high'));
    expect(await idsOf('filter=priority:ne:normal')).toEqual(expected((s) => s.priority !== 'normal'));
    expect(await idsOf('filter=priority:in:high,urgent')).toEqual(
      expected((s) => s.priority === 'high' || s.priority === 'urgent'),
    );
    expect(await idsOf('filter=priority:ni:high,urgent')).toEqual(
      expected((s) => s.priority !== 'high' && s.priority !== 'urgent'),
    );
    expect(await idsOf('filter=status:eq:open')).toHaveLength(30);
    expect(await idsOf('filter=status:eq:complete')).toHaveLength(0);
    const bad = expectError(await list('?filter=priority:eq:High'), 400);
    expect(bad.body.userMessage).toContain('High');
  });

  it('references and ids by public id', async () => {
    expect(await idsOf(`filter=assignedUser:eq:${t.ids.user}`)).toEqual(expected((s) => s.assignedUser === t.ids.user));
    expect(await idsOf(`filter=assignedUser:in:${t.ids.user},${t.ids.reader}`)).toEqual(
      expected((s) => s.assignedUser !== undefined),
    );
    expect(await idsOf(`filter=assignedUser:ne:${t.ids.user}`)).toEqual(expected((s) => s.assignedUser !== t.ids.user));
    expect(await idsOf(`filter=assignedByUser:eq:${t.ids.user}`)).toEqual(
      expected((s) => s.assignedUser !== undefined),
    );
    expect(await idsOf(`filter=id:eq:${seeded[3].id}`)).toEqual([seeded[3].id]);
    expect(await idsOf(`filter=id:eq:${seeded[3].id.replace(':', '::')}`)).toEqual([seeded[3].id]);
    expect(await idsOf(`filter=assignedUser:eq:${t.ids.user.replace(':', '::')}`)).toEqual(
      expected((s) => s.assignedUser === t.ids.user),
    );
    expect(await idsOf(`filter=id:in:${seeded[0].id},${seeded[1].id}`)).toEqual([seeded[0].id, seeded[1].id].sort());
    expect(await idsOf(`filter=id:gt:${seeded[27].id}`)).toEqual([seeded[28].id, seeded[29].id].sort());
    expectError(await list('?filter=assignedUser:eq:alice'), 400);
    expectError(await list('?filter=id:eq:7'), 400);
  });

  it('sw and cn are case-insensitive and treat % and _ literally', async () => {
    expect(await idsOf('filter=subject:sw:Task 1')).toEqual(expected((s) => s.subject.startsWith('Task 1')));
    expect(await idsOf('filter=subject:sw:task 1')).toEqual(expected((s) => s.subject.startsWith('Task 1')));
    expect(await idsOf('filter=subject:cn:LOWER')).toEqual(expected((s) => s.subject === 'claim lower'));
    expect(await idsOf(`filter=${encodeURIComponent('subject:cn:50%')}`)).toEqual(
      expected((s) => s.subject === 'Ratio 50% done'),
    );
    expect(await idsOf('filter=subject:cn:_')).toEqual(expected((s) => s.subject === 'under_score'));
    expect(await idsOf('filter=subject:sw:claim::')).toEqual(expected((s) => s.subject === 'Claim: A:B'));
    expect(await idsOf('filter=subject:cn:')).toHaveLength(30);
  });

  it('times and booleans', async () => {
    expect(await idsOf('filter=createTime:lt:2000-01-01')).toHaveLength(0);
    expect(await idsOf('filter=createTime:ge:2000-01-01T00:00:00Z')).toHaveLength(30);
    expect(await idsOf(`filter=createTime:ge:${encodeURIComponent('2000-01-01T00:00:00+02:00')}`)).toHaveLength(30);
    expectError(await list('?filter=createTime:lt:yesterday'), 400);
    expectError(await list('?filter=createTime:lt:2030-01-01T25:00:00Z'), 400);
    // a time without a zone is UTC (on a machine whose zone is not UTC, local-time parsing would miss it)
    const one = (await list(`?filter=id:eq:${seeded[4].id}`)).body.data[0].attributes.createTime as string;
    expect(await idsOf(`filter=createTime:eq:${one.replace(/Z$/, '')}`)).toContain(seeded[4].id);
    expect(await idsOf(`filter=createTime:eq:${one}`)).toContain(seeded[4].id);
    expect(await idsOf(`filter=createTime:ge:${one.slice(0, 16)}`)).toContain(seeded[4].id);
    const users = await t.http
      .get('/rest/admin/v1/users?filter=active:eq:true&sort=username')
      .set('Authorization', t.auth('admin'));
    expect(users.body.data.map((d: { attributes: { username: string } }) => d.attributes.username)).toEqual([
      'admin',
      'alice',
      'rita',
    ]);
    const none = await t.http.get('/rest/admin/v1/users?filter=active:eq:false').set('Authorization', t.auth('admin'));
    expect(none.body.count).toBe(0);
    expectError(
      await t.http.get('/rest/admin/v1/users?filter=active:eq:yes').set('Authorization', t.auth('admin')),
      400,
    );
  });

  it('refuses an unknown field, an unknown operator, a bad value or shape with 400 naming it', async () => {
    const cases: Array<[string, string]> = [
      ['filter=colour:eq:red', 'colour'],
      ['filter=subject:like:x', 'like'],
      ['filter=dueDate:eq:2030-13-01', '2030-13-01'],
      ['filter=dueDate:sw:2030', 'sw'],
      ['filter=priority:cn:hi', 'cn'],
      ['filter=subject', 'subject'],
      ['filter=subject:eq', 'subject:eq'],
      ['filter=description:eq:x&filter=nope:eq:1', 'nope'],
    ];
    for (const [query, named] of cases) {
      const res = expectError(await list(`?${query}`), 400);
      expect(`${query} → ${res.body.userMessage}`).toContain(named);
    }
    const users = expectError(
      await t.http.get('/rest/admin/v1/users?filter=password:eq:x').set('Authorization', t.auth('admin')),
      400,
    );
    expect(users.body.userMessage).toContain('password');
    expectError(
      await t.http.get('/rest/admin/v1/users?filter=roles:eq:admin').set('Authorization', t.auth('admin')),
      400,
    );
    const tooMany = Array.from({ length: 21 }, () => 'filter=subject:ne:x').join('&');
    expectError(await list(`?${tooMany}`), 400);
  });
});

describe('sort', () => {
  it('sorts by several keys, - for descending, empty values last ascending', async () => {
    const res = await list('?pageSize=100&sort=priority,-dueDate&fields=priority,dueDate');
    const got = res.body.data.map((d: { attributes: { id: string } }) => d.attributes.id);
    const want = [...seeded]
      .sort((a, b) => {
        if (a.priority !== b.priority) return a.priority < b.priority ? -1 : 1;
        if (a.dueDate === b.dueDate) return a.id.localeCompare(b.id, undefined, { numeric: true });
        if (a.dueDate === undefined) return -1;
        if (b.dueDate === undefined) return 1;
        return a.dueDate < b.dueDate ? 1 : -1;
      })
      .map((s) => s.id);
    expect(got).toEqual(want);

    const asc = await list('?pageSize=100&sort=dueDate');
    const dues = asc.body.data.map((d: { attributes: { dueDate?: string } }) => d.attributes.dueDate ?? null);
    expect(dues.slice(0, 26)).toEqual([...dues.slice(0, 26)].sort());
    expect(dues.slice(26)).toEqual([null, null, null, null]);
    const byId = await list('?pageSize=100&sort=-id');
    expect(byId.body.data[0].attributes.id).toBe(seeded[29].id);
    const twoParams = await list('?pageSize=100&sort=priority&sort=-subject');
    expect(twoParams.body.data.map((d: { attributes: { id: string } }) => d.attributes.id)).toEqual(
      [...seeded]
        .sort((a, b) =>
          a.priority !== b.priority ? (a.priority < b.priority ? -1 : 1) : a.subject < b.subject ? 1 : -1,
        )
        .map((s) => s.id),
    );
  });

  it('refuses an unknown or unsortable field with 400 naming it', async () => {
    expect(expectError(await list('?sort=shoeSize'), 400).body.userMessage).toContain('shoeSize');
    expect(expectError(await list('?sort=-description'), 400).body.userMessage).toContain('description');
  });
});

describe('paging, totals and links', () => {
  it('pages 25 by default with first/next links and no total unless asked', async () => {
    const res = await list('');
    expect(res.body.count).toBe(25);
    expect(res.body.data).toHaveLength(25);
    expect(res.body.total).toBeUndefined();
    expect(res.body.links.self).toEqual({ href: '/common/v1/activities', methods: ['get'] });
    expect(res.body.links.first).toEqual({ href: '/common/v1/activities', methods: ['get'] });
    expect(res.body.links.prev).toBeUndefined();
    expect(res.body.links.next.href).toBe('/common/v1/activities?pageOffset=25');
    const next = await t.http.get(`/rest${res.body.links.next.href}`).set('Authorization', t.auth('reader'));
    expect(next.body.count).toBe(5);
    expect(next.body.links.next).toBeUndefined();
    expect(next.body.links.prev.href).toBe('/common/v1/activities');
    const all = [...res.body.data, ...next.body.data]
      .map((d: { attributes: { id: string } }) => d.attributes.id)
      .sort();
    expect(all).toEqual(seeded.map((s) => s.id).sort());
  });

  it('pageSize, pageOffset and includeTotal work together and links keep the query', async () => {
    const res = await list(
      '?filter=priority:in:high,urgent&sort=-dueDate&pageSize=4&pageOffset=4&includeTotal=true&fields=subject',
    );
    const matching = seeded.filter((s) => s.priority === 'high' || s.priority === 'urgent');
    expect(res.body.total).toBe(matching.length);
    expect(Object.keys(res.body)).toEqual(['count', 'total', 'data', 'links']);
    expect(res.body.count).toBe(4);
    const q = 'fields=subject&filter=priority%3Ain%3Ahigh%2Curgent&sort=-dueDate&pageSize=4';
    expect(res.body.links.self.href).toBe(`/common/v1/activities?${q}&pageOffset=4&includeTotal=true`);
    expect(res.body.links.first.href).toBe(`/common/v1/activities?${q}&includeTotal=true`);
    expect(res.body.links.prev.href).toBe(`/common/v1/activities?${q}&includeTotal=true`);
    expect(res.body.links.next.href).toBe(`/common/v1/activities?${q}&pageOffset=8&includeTotal=true`);
    const next = await t.http.get(`/rest${res.body.links.next.href}`).set('Authorization', t.auth('reader'));
    expect(next.body.total).toBe(matching.length);
    expect(next.body.count).toBe(Math.min(4, matching.length - 8));
    const beyond = await list('?pageOffset=1000&includeTotal=true');
    expect(beyond.body).toMatchObject({ count: 0, total: 30, data: [] });
    expect(beyond.body.links.next).toBeUndefined();
    expect((await list('?pageSize=100')).body.count).toBe(30);
    expect((await list('?includeTotal=false')).body.total).toBeUndefined();
  });

  it('refuses page sizes and offsets out of range and unknown parameters', async () => {
    for (const q of [
      'pageSize=101',
      'pageSize=0',
      'pageSize=-1',
      'pageSize=ten',
      'pageSize=2.5',
      'pageOffset=-1',
      'includeTotal=maybe',
    ]) {
      const res = expectError(await list(`?${q}`), 400);
      expect(`${q} → ${res.body.userMessage}`).toContain(q.split('=')[0]);
    }
    expect(expectError(await list('?pagesize=10'), 400).body.userMessage).toContain('pagesize');
    expect(
      expectError(await t.http.get(`${LIST}/${seeded[0].id}?sort=subject`).set('Authorization', t.auth('reader')), 400)
        .body.userMessage,
    ).toContain('sort');
  });
});

describe('POST /common/v1/search/activities', () => {
  const search = (body: unknown, query = '', who: 'reader' | 'user' = 'reader') =>
    t.http
      .post(`/rest/common/v1/search/activities${query}`)
      .set('Authorization', t.auth(who))
      .send(body as object);

  it('filters from the body (strings or objects), with sort, paging and total from the query', async () => {
    const res = await search(
      {
        data: {
          attributes: { filters: ['priority:in:high,urgent', { field: 'dueDate', op: 'lt', value: '2030-01-15' }] },
        },
      },
      '?sort=-dueDate&pageSize=3&includeTotal=true',
    );
    expect(res.status).toBe(200);
    const want = seeded
      .filter((s) => (s.priority === 'high' || s.priority === 'urgent') && !!s.dueDate && s.dueDate < '2030-01-15')
      .sort((a, b) => ((a.dueDate as string) < (b.dueDate as string) ? 1 : -1));
    expect(res.body.total).toBe(want.length);
    expect(res.body.data.map((d: { attributes: { id: string } }) => d.attributes.id)).toEqual(
      want.slice(0, 3).map((s) => s.id),
    );
    expect(res.body.links.self.href).toBe('/common/v1/search/activities?sort=-dueDate&pageSize=3&includeTotal=true');
    expect(res.body.links.next.methods).toEqual(['post']);
    const colon = await search({
      data: { attributes: { filters: [{ field: 'subject', op: 'eq', value: 'Claim: A:B' }] } },
    });
    expect(colon.body.count).toBe(1);
    const everything = await search({ data: { attributes: {} } }, '?pageSize=100');
    expect(everything.body.count).toBe(30);
  });

  it('refuses bad filters, unknown members and query filters', async () => {
    expect(
      expectError(await search({ data: { attributes: { filters: ['colour:eq:red'] } } }), 400).body.userMessage,
    ).toContain('colour');
    expectError(await search({ data: { attributes: { filters: [{ field: 'subject', op: 'eq' }] } } }), 400);
    expectError(await search({ data: { attributes: { filter: ['subject:eq:x'] } } }), 400);
    expectError(await search({ data: { attributes: { filters: 'subject:eq:x' } } }), 400);
    expectError(await search({ data: { attributes: { filters: [] } } }, '?filter=subject:eq:x'), 400);
    expectError(await search(undefined), 400);
  });
});

describe('indexes', () => {
  /** The columns that lead some index of the table (its primary key included). */
  async function leadingIndexColumns(table: string): Promise<Set<string>> {
    if (testDatabaseKind() === 'sqlite') {
      const indexes: Array<{ name: string }> = await t.knex.raw(`PRAGMA index_list(${table})`);
      const firsts = await Promise.all(
        indexes.map(
          async (ix) =>
            ((await t.knex.raw(`PRAGMA index_info("${ix.name}")`)) as Array<{ seqno: number; name: string }>).find(
              (c) => c.seqno === 0,
            )?.name,
        ),
      );
      const pk: Array<{ name: string; pk: number }> = await t.knex.raw(`PRAGMA table_info(${table})`);
      return new Set([...firsts, ...pk.filter((c) => c.pk === 1).map((c) => c.name)].filter((n): n is string => !!n));
    }
    const { rows } = await t.knex.raw(
      'select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0] where i.indrelid = ?::regclass',
      [table],
    );
    return new Set(rows.map((r: { attname: string }) => r.attname));
  }

  it('every filterable or sortable column leads an index (long text, only ever searched with cn, excepted)', async () => {
    for (const res of [activityResource, noteResource, userResource]) {
      const indexed = await leadingIndexColumns(res.table);
      for (const [name, field] of Object.entries(res.fields)) {
        if (!(field.filterable || field.sortable) || field.writeOnly || field.kind === 'text') continue;
        const column = field.kind === 'id' ? 'id' : rowKey(field);
        expect(`${res.type}.${name} (${column}): ${indexed.has(column) ? 'indexed' : 'no index'}`).toBe(
          `${res.type}.${name} (${column}): indexed`,
        );
      }
    }
  });

  it('a filtered and sorted activities list uses an index (SQLite EXPLAIN QUERY PLAN)', async () => {
    if (testDatabaseKind() !== 'sqlite') {
      // The same indexes exist on PostgreSQL; its planner prefers a scan on a table this small.
      const [{ n }] = (await t.knex.raw("select count(*)::int as n from pg_indexes where tablename = 'activities'"))
        .rows;
      expect(n).toBeGreaterThanOrEqual(7);
      return;
    }
    const seen: Array<{ sql: string; bindings: unknown[] }> = [];
    const onQuery = (q: { sql: string; bindings: unknown[] }) => seen.push(q);
    t.knex.on('query', onQuery);
    try {
      expect((await list('?filter=priority:eq:high&sort=-dueDate&pageSize=5')).status).toBe(200);
      expect((await list(`?filter=assignedUser:eq:${t.ids.user}&sort=subject`)).status).toBe(200);
    } finally {
      t.knex.removeListener('query', onQuery);
    }
    const selects = seen.filter((q) => /^select/i.test(q.sql) && /`activities`/.test(q.sql));
    expect(selects).toHaveLength(2);
    const plans: string[] = [];
    for (const q of selects) {
      const rows: Array<{ detail: string }> = await t.knex.raw(`EXPLAIN QUERY PLAN ${q.sql}`, q.bindings as never);
      plans.push(rows.map((r) => r.detail).join('\n'));
    }
    expect(plans[0]).toMatch(/SEARCH a USING INDEX activities_priority_index \(priority=\?\)/);
    expect(plans[1]).toMatch(/SEARCH a USING INDEX activities_assigned_user_id_index \(assigned_user_id=\?\)/);
    for (const plan of plans) expect(plan).not.toMatch(/SCAN a\b(?! USING)/);
  });
});
