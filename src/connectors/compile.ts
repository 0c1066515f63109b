// Owns turning a registry document into runnable definitions: ajv schema check, the rules a schema
// cannot say (unique permalinks and step names, per-type auth config), and compiling every template
// once. All or nothing: any problem and the whole document is refused, with every reason listed.
import Ajv, { type ErrorObject } from 'ajv';
import sjson from 'secure-json-parse';
import {
  AuthConfigSchemas,
  CompositeConnectorDef,
  RegistryFile,
  type ApiKeyConfig,
  type AuthType,
  type OAuthConfig,
  type RegistryDocument,
  type SimpleConnectorDef,
  type StepDef,
  type StepMethod,
} from './definitions';
import type { RedirectPolicy } from './outboundMessages';
import { compileTemplate, type CompiledTemplate } from './template';

export interface RegistryProblem {
  path: string;
  message: string;
}

export interface CompiledKeyValue {
  key: string;
  value: CompiledTemplate;
}

export type CompiledAuth =
  | { type: 'none' }
  | { type: 'api_key'; key: string; value: CompiledTemplate; in: 'header' | 'query' }
  | {
      type: 'oauth_client_credentials';
      tokenUrl: CompiledTemplate;
      clientId: CompiledTemplate;
      clientSecret: CompiledTemplate;
      scope?: CompiledTemplate;
      audience?: CompiledTemplate;
      clientAuth: 'client_secret_post' | 'client_secret_basic';
    };

export interface CompiledStep {
  name: string;
  method: StepMethod;
  url: CompiledTemplate;
  headers: CompiledKeyValue[];
  query: CompiledKeyValue[];
  requestBody?: CompiledTemplate;
  responseBody?: CompiledTemplate;
  auth: CompiledAuth;
  followRedirects: RedirectPolicy;
}

export interface CompiledSimple {
  def: SimpleConnectorDef;
  step: CompiledStep;
  /** Path parameters the URL template reads; each must arrive in X-Path-Params. */
  pathParams: string[];
}

export interface CompiledComposite {
  def: CompositeConnectorDef;
  steps: CompiledStep[];
}

export interface CompiledRegistry {
  document: RegistryDocument;
  simple: ReadonlyMap<string, CompiledSimple>;
  composite: ReadonlyMap<string, CompiledComposite>;
}

export type CompileOutcome = { ok: true; registry: CompiledRegistry } | { ok: false; problems: RegistryProblem[] };

const ajv = new Ajv({ allErrors: true, strict: false });
const validateFile = ajv.compile(RegistryFile);
const validateAuth = Object.fromEntries(
  Object.entries(AuthConfigSchemas).map(([type, schema]) => [type, ajv.compile(schema)]),
) as Record<AuthType, ReturnType<typeof ajv.compile>>;

const MAX_PROBLEMS = 50;

function schemaProblems(errs: ErrorObject[] | null | undefined, base: string): RegistryProblem[] {
  return (errs ?? []).map((e) => {
    const where =
      `${base}${e.instancePath.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')}`.replace(/^\./, '') || '(root)';
    if (e.keyword === 'additionalProperties')
      return {
        path: where,
        message: `unknown member "${(e.params as { additionalProperty: string }).additionalProperty}"`,
      };
    if (e.keyword === 'required')
      return { path: where, message: `missing member "${(e.params as { missingProperty: string }).missingProperty}"` };
    if (e.keyword === 'pattern' && /\.(name|permalink)$/.test(where))
      return { path: where, message: 'must be a slug: lower-case letters, digits and single hyphens' };
    if (e.keyword === 'enum')
      return {
        path: where,
        message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`,
      };
    return { path: where, message: e.message ?? 'is invalid' };
  });
}

/** Parses the registry file's text; JSON errors name the position, never echo content. */
export function parseRegistryText(
  text: string,
): { ok: true; value: unknown } | { ok: false; problems: RegistryProblem[] } {
  try {
    return { ok: true, value: sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }) };
  } catch (err) {
    const message =
      err instanceof SyntaxError
        ? err.message.replace(/,? ".*" is not valid JSON/, ' (not valid JSON)').slice(0, 200)
        : 'members named __proto__ or constructor are not allowed';
    return { ok: false, problems: [{ path: '(file)', message }] };
  }
}

class StepCompiler {
  readonly problems: RegistryProblem[] = [];

  template(source: string, path: string, secrets: boolean): CompiledTemplate {
    try {
      return compileTemplate(source, { secrets });
    } catch (err) {
      this.problems.push({ path, message: `template does not compile: ${(err as Error).message}` });
      return compileTemplate('', { secrets: false });
    }
  }

  auth(step: StepDef, path: string): CompiledAuth {
    const auth = step.authentication;
    if (!auth || auth.type === 'none') {
      if (auth?.config && Object.keys(auth.config).length > 0)
        this.problems.push({ path: `${path}.authentication.config`, message: 'type "none" takes no config' });
      return { type: 'none' };
    }
    const config = auth.config ?? {};
    const validate = validateAuth[auth.type];
    if (!validate(config)) {
      this.problems.push(...schemaProblems(validate.errors, `${path}.authentication.config`));
      return { type: 'none' };
    }
    const at = `${path}.authentication.config`;
    if (auth.type === 'api_key') {
      const c = config as ApiKeyConfig;
      return { type: 'api_key', key: c.key, value: this.template(c.value, `${at}.value`, true), in: c.in ?? 'header' };
    }
    const c = config as OAuthConfig;
    return {
      type: 'oauth_client_credentials',
      tokenUrl: this.template(c.token_url, `${at}.token_url`, true),
      clientId: this.template(c.client_id, `${at}.client_id`, true),
      clientSecret: this.template(c.client_secret, `${at}.client_secret`, true),
      scope: c.scope === undefined ? undefined : this.template(c.scope, `${at}.scope`, true),
      audience: c.audience === undefined ? undefined : this.template(c.audience, `${at}.audience`, true),
      clientAuth: c.client_auth ?? 'client_secret_post',
    };
  }

  step(step: StepDef, name: string, path: string): CompiledStep {
    return {
      name,
      method: (step.method ?? 'GET').toUpperCase() as StepMethod,
      url: this.template(step.url, `${path}.url`, false),
      headers: (step.headers ?? []).map((h, i) => ({
        key: h.key,
        value: this.template(h.value, `${path}.headers[${i}].value`, true),
      })),
      query: (step.query_parameters ?? []).map((q, i) => ({
        key: q.key,
        value: this.template(q.value, `${path}.query_parameters[${i}].value`, true),
      })),
      requestBody:
        step.request_body === undefined ? undefined : this.template(step.request_body, `${path}.request_body`, false),
      responseBody:
        step.response_body === undefined
          ? undefined
          : this.template(step.response_body, `${path}.response_body`, false),
      auth: this.auth(step, path),
      followRedirects: step.follow_redirects ?? 'same-origin',
    };
  }
}

/** A registry file's text, parsed and compiled. */
export function compileRegistryText(text: string): CompileOutcome {
  const parsed = parseRegistryText(text);
  return parsed.ok ? compileRegistry(parsed.value) : parsed;
}

/** Checks and compiles a parsed registry document. */
export function compileRegistry(input: unknown): CompileOutcome {
  if (!validateFile(input))
    return { ok: false, problems: schemaProblems(validateFile.errors, '').slice(0, MAX_PROBLEMS) };
  const file = input as RegistryFile;
  const document: RegistryDocument = {
    connectors: file.connectors ?? [],
    composite_connectors: file.composite_connectors ?? [],
  };
  const c = new StepCompiler();
  const permalinks = new Map<string, string>();
  const claim = (permalink: string, path: string) => {
    const earlier = permalinks.get(permalink);
    if (earlier)
      c.problems.push({
        path: `${path}.permalink`,
        message: `duplicate permalink "${permalink}" (also at ${earlier})`,
      });
    else permalinks.set(permalink, path);
  };

  const simple = new Map<string, CompiledSimple>();
  document.connectors.forEach((def, i) => {
    const path = `connectors[${i}]`;
    claim(def.permalink, path);
    const step = c.step(def, def.permalink, path);
    simple.set(def.permalink, { def, step, pathParams: [...step.url.pathParams] });
  });

  const composite = new Map<string, CompiledComposite>();
  document.composite_connectors.forEach((def, i) => {
    const path = `composite_connectors[${i}]`;
    claim(def.permalink, path);
    const names = new Set<string>();
    const steps = def.steps.map((step, j) => {
      const stepPath = `${path}.steps[${j}]`;
      if (names.has(step.name))
        c.problems.push({ path: `${stepPath}.name`, message: `duplicate step name "${step.name}"` });
      names.add(step.name);
      return c.step(step, step.name, stepPath);
    });
    composite.set(def.permalink, { def, steps });
  });

  if (c.problems.length > 0) return { ok: false, problems: c.problems.slice(0, MAX_PROBLEMS) };
  return { ok: true, registry: { document, simple, composite } };
}
