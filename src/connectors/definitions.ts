// Owns the registry file's schema (`connectors_registry.json`) as TypeBox: JSON Schema for ajv and
// the TypeScript types of a definition, from one source.
import { Type, type Static } from '@sinclair/typebox';
import { REDIRECT_POLICIES, type RedirectPolicy } from './outboundMessages';

export const SLUG = '^[a-z0-9]+(?:-[a-z0-9]+)*$';
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type StepMethod = (typeof METHODS)[number];

const Template = (description: string) => Type.String({ maxLength: 65536, description });

const KeyValue = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 256, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }),
    value: Template('Jinja2 template'),
    overridable: Type.Optional(
      Type.Boolean({ description: 'Accepted for compatibility; client values never override definitions' }),
    ),
  },
  { additionalProperties: false },
);

export const AUTH_TYPES = ['none', 'api_key', 'oauth_client_credentials'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

const Authentication = Type.Object(
  {
    type: Type.Unsafe<AuthType>({ type: 'string', enum: [...AUTH_TYPES] }),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

/** Per-type `authentication.config`, checked after the file schema so messages name the type. */
export const AuthConfigSchemas = {
  none: Type.Object({}, { additionalProperties: false }),
  api_key: Type.Object(
    {
      key: Type.String({ minLength: 1, maxLength: 256, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }),
      value: Template('the key; use get_secret()'),
      in: Type.Optional(Type.Unsafe<'header' | 'query'>({ type: 'string', enum: ['header', 'query'] })),
    },
    { additionalProperties: false },
  ),
  oauth_client_credentials: Type.Object(
    {
      token_url: Template('token endpoint (RFC 6749 §4.4)'),
      client_id: Template('client id'),
      client_secret: Template('client secret'),
      scope: Type.Optional(Template('space-separated scopes')),
      audience: Type.Optional(Template('audience parameter, for servers that need one')),
      client_auth: Type.Optional(
        Type.Unsafe<'client_secret_post' | 'client_secret_basic'>({
          type: 'string',
          enum: ['client_secret_post', 'client_secret_basic'],
        }),
      ),
    },
    { additionalProperties: false },
  ),
};
export type ApiKeyConfig = Static<typeof AuthConfigSchemas.api_key>;
export type OAuthConfig = Static<typeof AuthConfigSchemas.oauth_client_credentials>;

const stepMembers = {
  url: Template('absolute URL'),
  method: Type.Optional(
    Type.Unsafe<string>({ type: 'string', enum: [...METHODS, ...METHODS.map((m) => m.toLowerCase())] }),
  ),
  headers: Type.Optional(Type.Array(KeyValue, { maxItems: 100 })),
  query_parameters: Type.Optional(Type.Array(KeyValue, { maxItems: 100 })),
  request_body: Type.Optional(Template('request body')),
  response_body: Type.Optional(Template('replaces the response body')),
  authentication: Type.Optional(Authentication),
  follow_redirects: Type.Optional(
    Type.Unsafe<RedirectPolicy>({
      type: 'string',
      enum: [...REDIRECT_POLICIES],
      description:
        'same-origin (default): only same-origin redirects; any: also to other origins, without secret headers; none: the redirect is the answer',
    }),
  ),
};

export const StepDef = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: SLUG }), ...stepMembers },
  { additionalProperties: false },
);
export type StepDef = Static<typeof StepDef>;

export const SimpleConnectorDef = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    permalink: Type.String({ minLength: 1, maxLength: 100, pattern: SLUG }),
    ...stepMembers,
  },
  { additionalProperties: false },
);
export type SimpleConnectorDef = Static<typeof SimpleConnectorDef>;

export const CompositeConnectorDef = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    permalink: Type.String({ minLength: 1, maxLength: 100, pattern: SLUG }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    steps: Type.Array(StepDef, { minItems: 1, maxItems: 20 }),
  },
  { additionalProperties: false },
);
export type CompositeConnectorDef = Static<typeof CompositeConnectorDef>;

export const RegistryFile = Type.Object(
  {
    connectors: Type.Optional(Type.Array(SimpleConnectorDef, { maxItems: 1000 })),
    composite_connectors: Type.Optional(Type.Array(CompositeConnectorDef, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export type RegistryFile = Static<typeof RegistryFile>;

/** The definitions of one sync, normalised: both arrays present. */
export interface RegistryDocument {
  connectors: SimpleConnectorDef[];
  composite_connectors: CompositeConnectorDef[];
}
