// Owns turning a step's templates into the request to send: one render batch in the worker pool (URL,
// query values, headers, body, authentication values), the rendered values checked (an absolute URL,
// header values without control characters), and which headers carry a secret — those rendered
// with get_secret() or from a token response, and the one api_key authentication sets — and whether
// the body does, so a redirect to another origin can drop or refuse them.
import type { CompiledStep } from './compile';
import { ConnectorFailure, type FailureSite } from './failure';
import type { ClientCredentials } from './oauth';
import type { RenderPool } from './renderPool';
import type { SecretStore } from './secrets';
import type { CompiledTemplate } from './template';

const BODYLESS = new Set(['GET', 'HEAD']);
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function templateFailure(field: string, why: string, site: FailureSite): ConnectorFailure {
  return new ConnectorFailure('template', 'TEMPLATE_RENDERING_ERROR', `${field}: ${why}`, site, { field });
}

interface Slot {
  field: string;
  template: CompiledTemplate;
  /** Goes into a header or the token request: no control characters. */
  header?: boolean;
}

export interface StepRequest {
  url: URL;
  headers: Record<string, string>;
  body?: string | Buffer;
  secretHeaders: Set<string>;
  /** The request_body read a token response. */
  secretBody: boolean;
  /** For oauth_client_credentials steps. */
  creds?: ClientCredentials;
}

export class StepRenderer {
  constructor(
    private readonly pool: RenderPool,
    private readonly secrets: () => SecretStore,
    /** CONNECTOR_TIMEOUT_MS: one render batch may take as long as one request. */
    private readonly timeoutMs: number,
  ) {}

  /** Renders the slots in one batch; a failure names the field (or 'templates' for the batch's time or memory). */
  async render(
    slots: Slot[],
    context: Record<string, unknown>,
    site: FailureSite,
    secretSteps?: readonly string[],
  ): Promise<Array<{ value: string; readSecret: boolean }>> {
    const secrets = slots.some((s) => s.template.secrets) ? this.secrets().snapshot() : undefined;
    const templates = slots.map((s) => ({ source: s.template.source, secrets: s.template.secrets }));
    const result = await this.pool.render({ templates, context, secrets, secretSteps }, this.timeoutMs);
    if (!result.ok)
      throw templateFailure(result.index >= 0 ? slots[result.index].field : 'templates', result.message, site);
    return slots.map((s, i) => {
      const value = result.values[i];
      if (s.header && !HEADER_VALUE.test(value))
        throw templateFailure(s.field, 'rendered a value with control characters', site);
      return { value, readSecret: result.readSecret[i] };
    });
  }

  async request(
    step: CompiledStep,
    context: Record<string, unknown>,
    site: FailureSite,
    secretSteps?: readonly string[],
    passThrough?: { body: Buffer; contentType: string | undefined },
  ): Promise<StepRequest> {
    const auth = step.auth;
    const slots: Slot[] = [
      { field: 'url', template: step.url },
      ...step.query.map((q) => ({ field: `query_parameters.${q.key}`, template: q.value })),
      ...step.headers.map((h) => ({ field: `headers.${h.key}`, template: h.value, header: true })),
    ];
    if (step.requestBody) slots.push({ field: 'request_body', template: step.requestBody });
    const at = 'authentication.config';
    if (auth.type === 'api_key') slots.push({ field: `${at}.value`, template: auth.value, header: true });
    if (auth.type === 'oauth_client_credentials') {
      for (const [name, template] of Object.entries({
        token_url: auth.tokenUrl,
        client_id: auth.clientId,
        client_secret: auth.clientSecret,
        scope: auth.scope,
        audience: auth.audience,
      })) {
        if (template) slots.push({ field: `${at}.${name}`, template, header: true });
      }
    }
    const rendered = await this.render(slots, context, site, secretSteps);
    const take = () => rendered.shift() as { value: string; readSecret: boolean };

    let url: URL;
    try {
      url = new URL(take().value.trim());
    } catch {
      throw templateFailure('url', 'did not render to an absolute URL', site);
    }
    for (const q of step.query) url.searchParams.append(q.key, take().value);
    const headers: Record<string, string> = {};
    const secretHeaders = new Set<string>();
    for (const h of step.headers) {
      const { value, readSecret } = take();
      headers[h.key.toLowerCase()] = value;
      if (readSecret) secretHeaders.add(h.key.toLowerCase());
    }
    let body: string | Buffer | undefined;
    let secretBody = false;
    if (step.requestBody) ({ value: body, readSecret: secretBody } = take());
    else if (passThrough) {
      body = passThrough.body;
      if (passThrough.contentType && !headers['content-type']) headers['content-type'] = passThrough.contentType;
    }
    if (BODYLESS.has(step.method)) body = undefined;

    if (auth.type === 'api_key') {
      const value = take().value;
      if (auth.in === 'query') url.searchParams.set(auth.key, value);
      else {
        headers[auth.key.toLowerCase()] = value;
        secretHeaders.add(auth.key.toLowerCase());
      }
    }
    if (auth.type !== 'oauth_client_credentials') return { url, headers, body, secretHeaders, secretBody };
    const creds: ClientCredentials = {
      tokenUrl: take().value.trim(),
      clientId: take().value,
      clientSecret: take().value,
      scope: auth.scope ? take().value || undefined : undefined,
      audience: auth.audience ? take().value || undefined : undefined,
      clientAuth: auth.clientAuth,
    };
    return { url, headers, body, secretHeaders, secretBody, creds };
  }
}
