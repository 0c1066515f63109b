// Templates cannot reach JavaScript internals: the classic nunjucks escape runs code in plain
// nunjucks (the control below) and fails with 422 here; prototype-chain lookups render nothing;
// client data is context, never template text.
import path from 'node:path';
import nunjucks from 'nunjucks';
import { compileTemplate } from '../../src/connectors/template';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { json, startUpstream, tempDir, writeJson, type Upstream } from './upstream';

const g = globalThis as { __connectorPwned?: string };
let t: TestApp;
let api: Upstream;

const ESCAPES = [
  "{{ ''.constructor.constructor('globalThis.__connectorPwned = \"string\"')() }}",
  '{{ constructor.constructor(\'globalThis.__connectorPwned = "context"\')() }}',
  '{{ range.constructor(\'globalThis.__connectorPwned = "global"\')() }}',
  "{{ request['const' + 'ructor']['const' + 'ructor']('globalThis.__connectorPwned = \"computed\"')() }}",
  '{% set f = cycler.constructor %}{{ f(\'globalThis.__connectorPwned = "set"\')() }}',
  "{{ (request | attr('constructor') | attr('constructor'))('globalThis.__connectorPwned = \"attr\"')() }}",
];

beforeAll(async () => {
  api = await startUpstream((req, res) => json(res, 200, { received: req.body }));
  const file = path.join(tempDir(), 'connectors_registry.json');
  writeJson(file, {
    composite_connectors: [
      ...ESCAPES.map((body, i) => ({
        name: `escape ${i}`,
        permalink: `escape-${i}`,
        steps: [{ name: 'only', url: `${api.url}/x`, method: 'POST', request_body: body }],
      })),
      {
        name: 'Lookups',
        permalink: 'lookups',
        steps: [
          {
            name: 'only',
            url: `${api.url}/x`,
            method: 'POST',
            request_body:
              "[{{ request.__proto__ | tojson }}, {{ request.constructor | tojson }}, {{ request.body_text.constructor | tojson }}, {{ request['__proto__'] | tojson }}, {{ request.toString | tojson }}, {{ (request | attr('__proto__')) | tojson }}]",
          },
        ],
      },
      {
        name: 'Echo',
        permalink: 'echo',
        steps: [
          {
            name: 'only',
            url: `${api.url}/x`,
            method: 'POST',
            request_body: '{{ request.body_text }}|{{ request.query_parameters.q }}',
          },
        ],
      },
    ],
  });
  t = await startTestApp({ CONNECTORS_REGISTRY: file, CONNECTORS_ALLOWED_HOSTS: api.host });
});

afterAll(async () => {
  delete g.__connectorPwned;
  await t.close();
  await api.close();
});

const run = (permalink: string) =>
  t.http.post(`/rest/connectors/v1/composite/${permalink}/execute`).set('Authorization', t.auth('user'));

test('control: plain nunjucks runs the escape (so the tests below can fail)', () => {
  nunjucks.renderString(ESCAPES[0], {});
  expect(g.__connectorPwned).toBe('string');
  delete g.__connectorPwned;
});

test.each(ESCAPES.map((e, i) => [i, e]))('escape %i fails with 422 and runs nothing', async (i) => {
  const calls = api.requests.length;
  const res = await run(`escape-${i}`);
  expect(res.status).toBe(422);
  expect(res.body.errors).toMatchObject({
    code: 'TEMPLATE_RENDERING_ERROR',
    scope: "Composite step 'only' (index 0): Configuration (template rendering)",
  });
  expect(g.__connectorPwned).toBeUndefined();
  expect(api.requests.length).toBe(calls);
});

test('prototype-chain and function lookups render nothing', async () => {
  const res = await run('lookups');
  expect(res.status).toBe(200);
  expect(res.body.received).toBe('[null, null, null, null, null, null]');
});

test('client data is context, never template text', async () => {
  const res = await run('echo')
    .query({ q: "{{ ''.constructor }}" })
    .set('Content-Type', 'text/plain')
    .send('{{ 7 * 7 }}{% raw %}');
  expect(res.status).toBe(200);
  expect(res.body.received).toBe("{{ 7 * 7 }}{% raw %}|{{ ''.constructor }}");
});

test('autoescaping is off and the Jinja helpers work', () => {
  const tpl = compileTemplate(
    "{{ a }} {{ b | from_json | attr('x') }} {{ b | from_json | tojson }} {{ 'hé' | base64_encode | base64_decode }} {{ 'a,b'.split(',') | join('+') }}",
    { secrets: false },
  );
  expect(tpl.render({ a: '<&"\'>', b: '{"x": "<y>"}' })).toBe('<&"\'> <y> {"x":"<y>"} hé a+b');
});
