// Owns request inclusion (SPEC §8): the children a resource declares includable, the `included`
// member of its POST and PATCH bodies and answers, and running the children in the root's transaction
// through their own operations (authorisation, validation and handler as if sent alone).
import { Type, type TSchema } from '@sinclair/typebox';
import { invoke, type CompiledOp } from '../api/dispatch';
import { PathMatcher } from '../api/match';
import type { Operation, OpContext, OpResult } from '../api/operation';
import { compileValidators } from '../api/validate';
import { ApiError, errors } from '../errors';
import { findRow } from './rows';
import { attributesSchema, readSchema, type ResourceDef } from '../model/resource';

/** A child type a resource's POST and PATCH may carry in `included`. */
export interface IncludableChild {
  /** The key under `included` (the child's type name, `Note`). */
  type: string;
  resource: ResourceDef;
  /** The child's create operation under its root; its path has the root's id in `rootParam`. */
  create: Operation;
  rootParam: string;
  /** The child's update operation (PATCH of an existing child of the root). */
  update: Operation;
  /** The column of the child's table that holds its root's id. */
  rootColumn: string;
}

/** Children of one type in one request: far above any real use, a bound for the parser. */
const MAX_CHILDREN = 100;

export type RootMethod = 'post' | 'patch';

interface ChildRequest {
  method: RootMethod;
  uri: string;
  attributes: Record<string, unknown>;
  checksum?: string;
}

export type Included = Record<string, ChildRequest[]>;

function childSchema(child: IncludableChild, method: RootMethod): TSchema {
  const common = {
    uri: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: `post: ${`/${child.create.api}/v1${child.create.path}`.replace(`{${child.rootParam}}`, 'this')}; patch: the child's own uri`,
    }),
  };
  if (method === 'post') {
    return Type.Object(
      { method: Type.Literal('post'), ...common, attributes: attributesSchema(child.resource, 'create') },
      { additionalProperties: false },
    );
  }
  return Type.Object(
    {
      method: Type.Literal('patch'),
      ...common,
      attributes: attributesSchema(child.resource, 'update'),
      checksum: Type.Optional(Type.String({ maxLength: 32 })),
    },
    { additionalProperties: false },
  );
}

/** The `included` member of a root's POST body (only `post` children) or PATCH body (`post` or `patch`). */
export function includedRequestSchema(children: readonly IncludableChild[], rootMethod: RootMethod): TSchema {
  const props: Record<string, TSchema> = {};
  for (const child of children) {
    // oneOf with a discriminator: a validator looks only at the branch `method` names, so dropping
    // unknown members (GW-UnknownPropertyHandling) never strips a member the other branch lacks.
    const item =
      rootMethod === 'post'
        ? childSchema(child, 'post')
        : Type.Unsafe<ChildRequest>({
            oneOf: [childSchema(child, 'post'), childSchema(child, 'patch')],
            discriminator: { propertyName: 'method' },
          });
    props[child.type] = Type.Optional(Type.Array(item, { maxItems: MAX_CHILDREN }));
  }
  return Type.Object(props, {
    additionalProperties: false,
    description: 'Related children written in the same transaction; "this" in a uri stands for the root\'s id',
  });
}

/** The `included` member of the answer: each child's data object, by type. */
export function includedResponseSchema(children: readonly IncludableChild[]): TSchema {
  return Type.Object(
    Object.fromEntries(children.map((c) => [c.type, Type.Optional(Type.Array(readSchema(c.resource)))])),
  );
}

const compiledOps = new WeakMap<Operation, CompiledOp>();
const matchers = new WeakMap<Operation, PathMatcher<CompiledOp>>();

function compiled(op: Operation): CompiledOp {
  let c = compiledOps.get(op);
  if (!c) compiledOps.set(op, (c = { op, validators: compileValidators(op) }));
  return c;
}

/** The path parameters of `uri` if it names `op`'s path, percent-decoded; else undefined. */
function paramsOf(op: Operation, uri: string): Record<string, string> | undefined {
  let matcher = matchers.get(op);
  if (!matcher) matchers.set(op, (matcher = new PathMatcher([compiled(op)])));
  const hit = matcher.match(uri)[0];
  if (!hit) return undefined;
  try {
    return Object.fromEntries(Object.entries(hit.params).map(([k, v]) => [k, decodeURIComponent(v)]));
  } catch {
    return undefined;
  }
}

/** A child's failure as the whole call's: its status and code, with every detail naming the child. */
function childFailure(err: unknown, where: string): unknown {
  if (!(err instanceof ApiError)) return err;
  const details = (err.details.length > 0 ? err.details : [{ message: err.userMessage }]).map((d) => ({
    ...d,
    properties: { ...d.properties, included: where },
  }));
  return new ApiError(
    err.status,
    err.errorCode,
    `${where}: ${err.userMessage}`,
    details,
    `${where}: ${err.developerMessage}`,
    err.headers,
  );
}

async function runChild(ctx: OpContext, child: IncludableChild, req: ChildRequest, rootId: number): Promise<OpResult> {
  const op = req.method === 'post' ? child.create : child.update;
  const params = paramsOf(op, req.uri);
  if (!params)
    throw errors.badInput(
      `${req.uri} is not where a ${child.type} is ${req.method === 'post' ? 'created' : 'updated'}`,
      [{ message: 'Wrong uri for this child', properties: { uri: req.uri } }],
    );
  if (req.method === 'post') {
    if (params[child.rootParam] !== 'this')
      throw errors.badInput(`Children attach only to the root: write "this" for its id in ${req.uri}`, [
        { message: 'Child not under the root', properties: { uri: req.uri } },
      ]);
    params[child.rootParam] = ctx.services.ids.format(rootId);
  } else {
    const id = ctx.services.ids.parse(Object.values(params).at(-1) ?? '');
    const row = id === undefined ? undefined : await findRow(ctx.db, child.resource, id);
    // A child that does not exist is left to the operation's own 404.
    if (row && Number(row[child.rootColumn]) !== rootId) {
      throw errors.badInput(`${req.uri} is not a ${child.type} of this root`, [
        { message: 'Child of another root', properties: { uri: req.uri } },
      ]);
    }
  }
  const body = {
    data:
      req.checksum === undefined
        ? { attributes: req.attributes }
        : { attributes: req.attributes, checksum: req.checksum },
  };
  return invoke(compiled(op), ctx, { params, query: {}, body, headers: {} });
}

/**
 * Runs every included child, in order, in the root's transaction (`ctx.db`), after the root was
 * written. Any failure fails the whole call with the child's status, its details naming
 * `included.<Type>[i]`; the caller's transaction then rolls back. Refused inside a composite.
 */
export async function runIncluded(
  ctx: OpContext,
  children: readonly IncludableChild[],
  included: Included,
  rootId: number,
): Promise<Record<string, unknown[]>> {
  if (ctx.inComposite) throw refusedInComposite();
  const out: Record<string, unknown[]> = {};
  for (const child of children) {
    const requests = included[child.type];
    if (!requests) continue;
    out[child.type] = [];
    for (let i = 0; i < requests.length; i++) {
      const where = `included.${child.type}[${i}]`;
      try {
        const result = await runChild(ctx, child, requests[i], rootId);
        out[child.type].push((result.body as { data: unknown }).data);
      } catch (err) {
        throw childFailure(err, where);
      }
    }
  }
  return out;
}

export function refusedInComposite(): ApiError {
  return errors.badInput('Request inclusion (included) is not allowed inside a composite', [
    { message: 'included inside a composite', properties: { member: 'included' } },
  ]);
}

/** What a root operation's definition gains from its includable children (nothing when it has none). */
export interface InclusionParts {
  request: Record<string, TSchema>;
  response: Record<string, TSchema>;
  types?: string[];
}

export function inclusionParts(
  children: readonly IncludableChild[] | undefined,
  rootMethod: RootMethod,
): InclusionParts {
  if (!children || children.length === 0) return { request: {}, response: {} };
  return {
    request: { included: Type.Optional(includedRequestSchema(children, rootMethod)) },
    response: { included: Type.Optional(includedResponseSchema(children)) },
    types: children.map((c) => c.type),
  };
}

/** The root's answer plus `included`, after running the children (see `runIncluded`). */
export async function withIncluded(
  ctx: OpContext,
  children: readonly IncludableChild[],
  included: Included,
  rootId: number,
  root: OpResult | Promise<OpResult>,
): Promise<OpResult> {
  const result = await root;
  const out = await runIncluded(ctx, children, included, rootId);
  return { ...result, body: { ...(result.body as object), included: out } };
}
