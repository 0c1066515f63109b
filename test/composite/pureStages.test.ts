// Unit tests of the pure stages: variable templates and JSONPath checks, and the planner.
import { compileOperations } from '../../src/api/dispatch';
import { PathMatcher } from '../../src/api/match';
import { compositeOperation } from '../../src/composite/operation';
import { planComposite } from '../../src/composite/plan';
import { JSONPath } from 'jsonpath-plus';
import knexFactory from 'knex';
import {
  checkVarPath,
  compileSegment,
  compileString,
  compileValue,
  compileVarPath,
  ExpansionError,
  readVarPath,
  referencedNames,
  RenderBudget,
  type Renderer,
} from '../../src/composite/vars';
import { resourceOperations } from '../../src/resources';
import { ApiError } from '../../src/errors';

const declared = (name: string) => ['a', 'b', 'n'].includes(name);
const roomy = () => new RenderBudget(1e6, 1e6);

describe('vars', () => {
  test('referencedNames finds identifiers and refuses anything else', () => {
    expect(referencedNames('x ${a} y ${b}')).toEqual(['a', 'b']);
    expect(referencedNames('no vars $ {a} $a')).toEqual([]);
    expect(() => referencedNames('${a.b}')).toThrow(/not a variable reference/);
    expect(() => referencedNames('${}')).toThrow(/not a variable reference/);
  });

  test('a whole-string reference keeps the type; text otherwise', () => {
    const vars = new Map<string, unknown>([
      ['a', 7],
      ['b', 'x/y z'],
      ['n', { k: 1 }],
    ]);
    expect(compileString('${a}', declared)?.(vars, roomy())).toBe(7);
    expect(compileString('#${a}#', declared)?.(vars, roomy())).toBe('#7#');
    expect(compileString('${n}-', declared)?.(vars, roomy())).toBe('{"k":1}-');
    expect(compileString('plain', declared)).toBeUndefined();
    expect(() => compileString('${zzz}', declared)).toThrow(/not declared/);
  });

  test('a uri segment renders decoded: literal text decoded once, values inserted as they are', () => {
    const vars = new Map<string, unknown>([
      ['a', 7],
      ['b', 'x/y z%2F'],
    ]);
    expect(compileSegment('${b}', declared)?.(vars, roomy())).toBe('x/y z%2F');
    expect(compileSegment('${a}', declared)?.(vars, roomy())).toBe('7');
    expect(compileSegment('xc%3A${a}-${b}', declared)?.(vars, roomy())).toBe('xc:7-x/y z%2F');
    expect(compileSegment('xc:12', declared)).toBeUndefined();
    expect(() => compileSegment('%E0%A4${a}', declared)).toThrow(/malformed percent-encoding/);
    expect(() => compileSegment('${zzz}', declared)).toThrow(/not declared/);
  });

  test('compileValue rebuilds only what holds variables and shares the rest', () => {
    const shared = { deep: { list: [1, 2, 3] } };
    const value = { keep: shared, change: ['${a}', 'k'] };
    const render = compileValue(value, declared);
    const out = render?.(new Map([['a', true]]), roomy()) as typeof value & { change: unknown[] };
    expect(out.change).toEqual([true, 'k']);
    expect(out.keep).toBe(shared);
    expect(compileValue({ x: [1, 'no vars'] }, declared)).toBeUndefined();
  });

  test('rendering is charged before it builds: past either bound it throws, and a reset starts afresh', () => {
    const vars = new Map<string, unknown>([
      ['a', 'x'.repeat(100)],
      ['n', { k: 'y'.repeat(50) }],
    ]);
    const repeated = compileString('${a}'.repeat(11), declared);
    expect(() => repeated?.(vars, new RenderBudget(1000, 1e6))).toThrow(ExpansionError);
    expect(() => repeated?.(vars, new RenderBudget(1000, 1e6))).toThrow(
      /1100 characters, more than the limit of 1000 for one value/,
    );
    const budget = new RenderBudget(1e6, 250);
    const whole = compileValue(['${n}', '${a}', '-${a}'], declared);
    expect(() => whole?.(vars, budget)).toThrow(/more than 250 characters for this composite/);
    budget.reset();
    expect(compileString('${a}${a}', declared)?.(vars, budget)).toHaveLength(200);
    expect(() => compileSegment('${a}', declared)?.(vars, budget)).toThrow(ExpansionError);
    expect(RenderBudget.forBody(10, 16, 1000).total).toBe(16 * 64 * 1024);
    expect(RenderBudget.forBody(1e6, 16, 1000).total).toBe(16e6);
  });

  test('checkVarPath allows member and index steps only', () => {
    for (const ok of ['$', '$.data.attributes.id', "$['data']['id']", '$.data.links.self.methods[0]', '$["a b"]'])
      expect(checkVarPath(ok)).toBeUndefined();
    for (const bad of [
      '$..id',
      '$.*',
      '$[?(@.x)]',
      '$[(@.length-1)]',
      'data.id',
      '$.a[-1:]',
      "$['a'](1)",
      '$.constructor`x`',
    ])
      expect(checkVarPath(bad)).toBeDefined();
  });

  test('a compiled var path reads values and reports no match as undefined', () => {
    const body = { data: { attributes: { id: 'xc:1', ok: false }, list: ['p', 'q'] } };
    expect(readVarPath(compileVarPath('$.data.attributes.id'), body)).toBe('xc:1');
    expect(readVarPath(compileVarPath('$.data.attributes.ok'), body)).toBe(false);
    expect(readVarPath(compileVarPath('$.data.list[1]'), body)).toBe('q');
    expect(readVarPath(compileVarPath('$.data.missing'), body)).toBeUndefined();
    expect(readVarPath(compileVarPath('$.data'), undefined)).toBeUndefined();
  });

  test('compiled paths read what jsonpath-plus (expressions off) reads, and never the prototype', () => {
    const body = {
      data: { attributes: { id: 'xc:1', 'a b': 2, 'x.y': [5, { z: 6 }] }, list: ['p', 'q'] },
      $: 7,
      'a-b': 8,
    };
    const paths = [
      '$',
      '$.data',
      '$.data.attributes.id',
      "$['data']['attributes']['a b']",
      '$["data"].attributes["x.y"][1].z',
      '$.data.list[0]',
      '$.data.list[2]',
      '$.nope.deeper',
      '$.a-b',
      '$.data.attributes.id.length',
    ];
    for (const p of paths) {
      const reference = (JSONPath({ path: p, json: body, eval: false, wrap: true }) as unknown[])[0];
      expect([p, readVarPath(compileVarPath(p), body)]).toEqual([p, reference]);
    }
    expect(readVarPath(compileVarPath('$.constructor'), body)).toBeUndefined();
    expect(readVarPath(compileVarPath("$.data['__proto__']"), body)).toBeUndefined();
  });
});

describe('plan', () => {
  let compiled: ReturnType<typeof compileOperations> = [];
  // Planning never queries: the composite's pool is a query builder without a connection.
  const pool = knexFactory({ client: 'better-sqlite3', useNullAsDefault: true });
  compiled = compileOperations([...resourceOperations, compositeOperation(() => compiled, pool)]);
  const ctx = { matcher: new PathMatcher(compiled), maxSubrequests: 5 };

  test('matches uris to operations, counts ids to reserve, and keeps literal params decoded', () => {
    const plan = planComposite(ctx, {
      requests: [
        {
          method: 'POST',
          uri: '/common/v1/activities',
          body: { data: { attributes: { subject: 's' } } },
          vars: [{ name: 'a', path: '$.data.attributes.id' }],
        },
        { method: 'post', uri: '/common/v1/activities/${a}/notes', body: { data: { attributes: { body: 'b' } } } },
        { method: 'Patch', uri: '/common/v1/notes/xc%3A5', body: { data: { attributes: { body: 'b' } } } },
      ],
      selections: [{ uri: '/common/v1/activities/${a}' }],
    });
    expect(plan.requests.map((r) => r.compiled.op.operationId)).toEqual([
      'createActivity',
      'createActivityNote',
      'updateNote',
    ]);
    expect(plan.selections[0].compiled.op.operationId).toBe('getActivity');
    expect([...plan.creates]).toEqual([
      ['activities', 1],
      ['notes', 1],
    ]);
    expect(plan.requests[2].params).toEqual([['noteId', 'xc:5']]);
    const render = plan.requests[1].params[0][1] as Renderer;
    expect(render(new Map([['a', 'xc:9']]), roomy())).toBe('xc:9');
  });

  test('refusals carry the section and index', () => {
    try {
      planComposite(ctx, { selections: [{ uri: '/common/v1/activities' }, { uri: '/nope' }] });
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).details[0].properties).toMatchObject({ section: 'selections', index: 1 });
    }
    expect(() =>
      planComposite(ctx, { selections: Array.from({ length: 6 }, () => ({ uri: '/common/v1/activities' })) }),
    ).toThrow(/at most 5/);
  });
});
