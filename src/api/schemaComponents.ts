// Owns named component schemas: a schema marked with `named` is published once under
// #/components/schemas/<name> and referenced wherever it appears, so generated clients get one named type.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** The key that marks a schema as a named component; the published document never carries it. */
const COMPONENT_KEY = 'x-gw-component';

/** Marks a schema as the component `name` (validation ignores the mark: ajv runs with strict off). */
export function named<T extends TSchema>(name: string, schema: T): T {
  return { ...schema, [COMPONENT_KEY]: name };
}

/**
 * Exactly one of the schemas holds (`oneOf`; TypeBox's Union is `anyOf`): generators read oneOf as a
 * union of distinct kinds. The alternatives must exclude each other (distinct required members).
 */
export function oneOf<T extends TSchema[]>(schemas: [...T], options: { description?: string } = {}) {
  return Type.Unsafe<Static<T[number]>>({ ...options, oneOf: schemas });
}

/** The error body every API answers with (SPEC §2). */
export const ErrorBodySchema = named(
  'Error',
  Type.Object(
    {
      status: Type.Integer({ description: 'The HTTP status, repeated' }),
      errorCode: Type.String({ description: 'e.g. gw.api.rest.exception.NotFoundException' }),
      userMessage: Type.String(),
      developerMessage: Type.String(),
      details: Type.Array(
        Type.Object({
          message: Type.String(),
          properties: Type.Optional(
            Type.Object(
              {},
              { additionalProperties: true, description: 'Facts about this detail: the path, member, index, uri…' },
            ),
          ),
        }),
      ),
    },
    { description: 'The error body of every API (SPEC §2)' },
  ),
);

/**
 * JSON Schema as plain data, with every named schema inside replaced by a $ref and collected into
 * `components` (TypeBox schemas carry symbol keys; the JSON round trip drops them).
 */
export function hoistComponents(schema: unknown, components: Record<string, unknown>): unknown {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const { [COMPONENT_KEY]: name, ...rest } = node as Record<string, unknown>;
    const plain = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, walk(v)]));
    if (typeof name !== 'string') return plain;
    const known = components[name];
    if (known !== undefined && JSON.stringify(known) !== JSON.stringify(plain))
      throw new Error(`two different schemas are named ${name}`);
    components[name] = plain;
    return { $ref: `#/components/schemas/${name}` };
  };
  return walk(JSON.parse(JSON.stringify(schema)));
}
