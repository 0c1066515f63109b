// Injection attacks: SQL through filters, sort, fields, ids and bodies (values always bound, never in the SQL
// text); LIKE wildcards; the published jsonpath-plus RCE payloads as composite var paths; uri smuggling and
// var values that try to climb out of their path segment; and no regular expression built from input.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { composite, createActivity, snapshot } from '../composite/helpers';
import { OPERATORS } from '../../src/query/filter';
import { checkVarPath, compileVarPath, readVarPath } from '../../src/composite/vars';

const ACTIVITIES = '/rest/common/v1/activities';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ AUTH_FAILURE_LIMIT: '100000' });
  for (const subject of ['100% done', '100x done', 'under_score', 'underXscore']) await createActivity(t, { subject });
});
afterAll(async () => t.close());

/** Every SQL statement knex sends while `run` runs, with its bindings. */
async function capturedSql(run: () => Promise<unknown>): Promise<Array<{ sql: string; bindings: unknown[] }>> {
  const seen: Array<{ sql: string; bindings: unknown[] }> = [];
  const listener = (q: { sql: string; bindings?: unknown[] }) => seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
  t.knex.on('query', listener);
  try {
    await run();
  } finally {
    t.knex.removeListener('query', listener);
  }
  return seen;
}

/** The contract's error shape, for refusals that may quote the (hostile) input back to its sender. */
function expectEchoingError(res: { status: number; body: Record<string, unknown> }, status: number): void {
  expect(res.status).toBe(status);
  expect(Object.keys(res.body).sort()).toEqual(['details', 'developerMessage', 'errorCode', 'status', 'userMessage']);
  expect(res.body).toMatchObject({ status, errorCode: expect.stringMatching(/^gw\.api\.rest\.exception\./) });
}

const get = (url: string) => t.http.get(url).set('Authorization', t.auth('user'));

describe('SQL injection', () => {
  const MARK = 'zq9MARK';
  const payloads = [
    `x' OR '1'='1' --${MARK}`,
    `'; DROP TABLE activities; --${MARK}`,
    `x") OR 1=1 /*${MARK}*/`,
    `${MARK}\\'; SELECT password_hash FROM users; --`,
  ];

  it.each(OPERATORS.filter((op) => op !== 'in' && op !== 'ni'))(
    'binds filter values with operator %s — never in the SQL text',
    async (op) => {
      const before = await snapshot(t);
      for (const payload of payloads) {
        let res: Awaited<ReturnType<typeof get>> | undefined;
        const queries = await capturedSql(async () => {
          res = await get(
            `${ACTIVITIES}?filter=${encodeURIComponent(`subject:${op}:${payload.replace(/:/g, '::')}`)}&includeTotal=true`,
          );
        });
        expect(res?.status).toBe(200);
        expect(queries.length).toBeGreaterThan(0);
        for (const q of queries) expect(q.sql).not.toContain(MARK);
        expect(queries.some((q) => q.bindings.some((b) => String(b).includes(MARK)))).toBe(true);
        if (op === 'eq' || op === 'sw' || op === 'cn') expect(res?.body.total).toBe(0);
      }
      expect(await snapshot(t)).toBe(before);
    },
  );

  it('binds in/ni list values and search-body filters the same way', async () => {
    const before = await snapshot(t);
    const queries = await capturedSql(async () => {
      expect((await get(`${ACTIVITIES}?filter=${encodeURIComponent(`subject:in:a,${payloads[0]}`)}`)).status).toBe(200);
      expect((await get(`${ACTIVITIES}?filter=${encodeURIComponent(`subject:ni:${payloads[1]}`)}`)).status).toBe(200);
      const search = await t.http
        .post('/rest/common/v1/search/activities')
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { filters: [{ field: 'subject', op: 'cn', value: payloads[2] }] } } });
      expect(search.status).toBe(200);
      expect(search.body.count).toBe(0);
    });
    for (const q of queries) expect(q.sql).not.toContain(MARK);
    expect(await snapshot(t)).toBe(before);
  });

  it('escapes LIKE wildcards: % and _ in a value match only themselves', async () => {
    const subjects = async (filter: string) =>
      (await get(`${ACTIVITIES}?filter=${encodeURIComponent(filter)}`)).body.data.map(
        (d: { attributes: { subject: string } }) => d.attributes.subject,
      );
    expect(await subjects('subject:cn:100%')).toEqual(['100% done']);
    expect(await subjects('subject:sw:under_')).toEqual(['under_score']);
    expect(await subjects('subject:cn:%')).toEqual(['100% done']);
  });

  it('takes column names only from the resource definition: injected sort, fields and filter fields are 400', async () => {
    const before = await snapshot(t);
    for (const url of [
      `${ACTIVITIES}?sort=${encodeURIComponent('subject; DROP TABLE notes')}`,
      `${ACTIVITIES}?sort=${encodeURIComponent('(select password_hash from users)')}`,
      `${ACTIVITIES}?fields=${encodeURIComponent('subject,password_hash')}`,
      `${ACTIVITIES}?filter=${encodeURIComponent('1=1 OR subject:eq:x')}`,
      `${ACTIVITIES}?filter=${encodeURIComponent('subject:eq) OR (1=1:x')}`,
      `/rest/admin/v1/users?filter=${encodeURIComponent('password:eq:admin-secret-pw')}`,
    ])
      expectEchoingError(await t.http.get(url).set('Authorization', t.auth('admin')), 400);
    expect(await snapshot(t)).toBe(before);
  });

  it('treats injected ids as ids that do not exist', async () => {
    const before = await snapshot(t);
    for (const id of [
      'xc:1 OR 1=1',
      "xc:1'; DELETE FROM activities; --",
      'xc:1)',
      '1 OR 1=1',
      'xc:-1',
      'xc:99999999999999999999',
    ]) {
      const res = await t.http.delete(`${ACTIVITIES}/${encodeURIComponent(id)}`).set('Authorization', t.auth('admin'));
      expect([400, 404]).toContain(res.status);
      expectEchoingError(res, res.status);
    }
    expect(await snapshot(t)).toBe(before);
  });

  it('stores SQL in a body as plain text', async () => {
    const subject = "'); DROP TABLE notes; --";
    const res = await t.http
      .post(ACTIVITIES)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { subject } } });
    expect(res.status).toBe(201);
    expect((await t.knex('activities').where({ subject }).first()).subject).toBe(subject);
    expect(Number((await t.knex('notes').count({ n: '*' }))[0].n)).toBeGreaterThanOrEqual(0);
  });
});

describe('JSONPath as code', () => {
  const marker = path.join(os.tmpdir(), `jsonpath-rce-${process.pid}-${Date.now()}`);
  // The published jsonpath-plus RCE (CVE-2024-21534) and relatives: filter/script expressions that reach Function.
  const payloads = [
    `$..[?(p="console.log(this.process.mainModule.require('child_process').execSync('id').toString())";a=''[['constructor']][['constructor']](p);a())]`,
    `$..[?(p="this.process.mainModule.require('child_process').execSync('touch ${marker}')";a=''[['constructor']][['constructor']](p);a())]`,
    `$..[?(p="this.process.getBuiltinModule('fs').writeFileSync('${marker}','x')";a=''[['constructor']][['constructor']](p);a())]`,
    `$[?(@.constructor.constructor('return process')().mainModule.require('fs').writeFileSync('${marker}','x'))]`,
    `$..[?(@property === 'id' && (globalThis.jsonpathPwned = true))]`,
    '$.data[(@.length-1)]',
    '$..id',
    '$.data.*',
    '$[`constructor`]',
  ];

  afterAll(() => fs.rmSync(marker, { force: true }));

  it.each(payloads)('refuses %s as a var path with a plain 400 before anything runs', async (payload) => {
    const before = await snapshot(t);
    const res = await composite(t, {
      requests: [
        {
          method: 'post',
          uri: '/common/v1/activities',
          body: { data: { attributes: { subject: 'rce' } } },
          vars: [{ name: 'v', path: payload }],
        },
      ],
      selections: [{ uri: '/common/v1/activities' }],
    });
    expectError(res, 400, 'gw.api.rest.exception.BadInputException');
    expect(res.body.requestFailed).toBeUndefined();
    expect(res.body.details[0].properties).toMatchObject({ section: 'requests', index: 0, var: 'v' });
    expect(await snapshot(t)).toBe(before);
    expect(fs.existsSync(marker)).toBe(false);
    expect((globalThis as Record<string, unknown>).jsonpathPwned).toBeUndefined();
  });

  it('never evaluates a path: one that got past the check still cannot be compiled into member steps', () => {
    expect(checkVarPath(payloads[2])).toBeDefined();
    expect(() => readVarPath(compileVarPath(payloads[2]), { data: { attributes: { id: 'xc:1' } } })).toThrow(
      /not allowed/i,
    );
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('never hands out the prototype: member steps see own data only', async () => {
    const before = await snapshot(t);
    for (const p of ['$.__proto__', "$['constructor']", '$.data.constructor']) {
      const res = await composite(t, {
        requests: [
          {
            method: 'post',
            uri: '/common/v1/activities',
            body: { data: { attributes: { subject: 'proto' } } },
            vars: [{ name: 'v', path: p }],
          },
          { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: '${v}' } } } },
        ],
      });
      expect(res.status).toBe(400);
      expect(res.body.requestFailed).toBe(true);
      expect(res.body.responses[0].requestError.details[0].properties).toMatchObject({ var: 'v' });
    }
    expect(await snapshot(t)).toBe(before);
  });

  it('refuses code in ${…} templates anywhere', async () => {
    const before = await snapshot(t);
    const declare = {
      method: 'post',
      uri: '/common/v1/activities',
      body: { data: { attributes: { subject: 'a' } } },
      vars: [{ name: 'a', path: '$.data.attributes.id' }],
    };
    for (const attack of [
      {
        method: 'post',
        uri: "/common/v1/activities/${a.constructor.constructor('return process')()}/notes",
        body: { data: { attributes: { body: 'x' } } },
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${a}/notes',
        body: { data: { attributes: { body: '${this.process.exit()}' } } },
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${a}/notes',
        body: { data: { attributes: { body: '${a}${__proto__}' } } },
      },
    ]) {
      const res = await composite(t, { requests: [declare, attack] });
      expectError(res, 400);
      expect(res.body.requestFailed).toBeUndefined();
    }
    expect(await snapshot(t)).toBe(before);
  });
});

describe('composite uri smuggling', () => {
  const smuggled = [
    '/common/v1/../admin/v1/users',
    '/common/v1/activities/%2e%2e/%2e%2e/admin/v1/users',
    '/common/v1/activities/..%2F..%2Fadmin%2Fv1%2Fusers',
    '/common/v1/activities/%252e%252e/x',
    '//evil.example/admin/v1/users',
    'http://127.0.0.1:8080/rest/admin/v1/users',
    '/rest/admin/v1/users',
    '/common/v1/activities\\..\\..\\admin\\v1\\users',
    '/common/v1/activities?fields=id',
    '/common/v1/activities#frag',
    '/common/v1/activities/ /notes',
    'common/v1/activities',
    '/common/v1/${nope}/activities',
  ];

  it.each(smuggled)('refuses uri %s with a plain 400, for a user and even for an admin', async (uri) => {
    const before = await snapshot(t);
    for (const who of ['user', 'admin'] as const) {
      const res = await composite(
        t,
        {
          requests: [
            {
              method: 'post',
              uri,
              body: { data: { attributes: { username: 'smuggled', password: 'smuggled-pw-1', roles: ['admin'] } } },
            },
          ],
        },
        who,
      );
      expectError(res, 400);
      expect(res.body.requestFailed).toBeUndefined();
    }
    expect(await snapshot(t)).toBe(before);
  });

  it('keeps a var value inside its one path segment, however it is spelled', async () => {
    const before = await snapshot(t);
    for (const subject of ['../../admin/v1/users', '..%2F..%2Fadmin%2Fv1%2Fusers', 'xc:1/../../../admin/v1/users']) {
      const res = await composite(t, {
        requests: [
          {
            method: 'post',
            uri: '/common/v1/activities',
            body: { data: { attributes: { subject } } },
            vars: [{ name: 's', path: '$.data.attributes.subject' }],
          },
          {
            method: 'post',
            uri: '/common/v1/activities/${s}/notes',
            body: { data: { attributes: { body: 'climb' } } },
          },
        ],
      });
      expect(res.status).toBe(400);
      expect(res.body.requestFailed).toBe(true);
      expect([400, 404]).toContain(res.body.responses[1].requestError.status);
    }
    expect(await snapshot(t)).toBe(before);
  });
});

describe('regular expressions', () => {
  /** Every TypeScript file under a directory. */
  function sources(dir: string): string[] {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((e) =>
        e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
      );
  }

  it('builds none from input: the server source holds no RegExp constructor, eval or Function constructor, and JSONPath runs with eval off', () => {
    const offenders: string[] = [];
    for (const file of sources(path.join(__dirname, '../../src'))) {
      const text = fs.readFileSync(file, 'utf8');
      if (/\bRegExp\s*\(|\beval\s*\(|\bnew\s+Function\s*\(/.test(text)) offenders.push(file);
      for (const call of text.match(/JSONPath\(\{[^}]*\}/g) ?? [])
        if (!/eval:\s*false/.test(call)) offenders.push(`${file}: ${call}`);
    }
    expect(offenders).toEqual([]);
  });

  it('answers a catastrophic-backtracking shaped filter as plain data', async () => {
    const evil = `${'a'.repeat(900)}!`;
    const res = await get(`${ACTIVITIES}?filter=${encodeURIComponent(`subject:cn:(a+)+$${evil}`)}`);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(0);
  });
});
