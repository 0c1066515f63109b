// Owns the connector error body (SPEC §5): `{success: false, errors: {code, detail, scope}, request_id}`,
// carried together with the SPEC §2 members so every error body also has the server-wide shape.
// A failure never holds data from an earlier step, a rendered template or a secret: only names,
// indexes, status codes and fixed texts.
import { REST_EXCEPTION } from '../errors';

export type FailureKind = 'http' | 'network' | 'template' | 'notFound' | 'pathParams' | 'outbound';

const STATUS: Record<FailureKind, number> = {
  http: 502,
  network: 502,
  outbound: 502,
  template: 422,
  notFound: 404,
  pathParams: 400,
};

const SCOPE_SUFFIX: Record<FailureKind, string> = {
  http: 'Downstream (HTTP error)',
  network: 'Downstream (network/external service)',
  outbound: 'Downstream (network/external service)',
  template: 'Configuration (template rendering)',
  notFound: 'Registry (unknown permalink)',
  pathParams: 'Request (path parameters)',
};

const ERROR_CODES: Record<FailureKind, string> = {
  http: `${REST_EXCEPTION}DownstreamHttpException`,
  network: `${REST_EXCEPTION}DownstreamNetworkException`,
  outbound: `${REST_EXCEPTION}OutboundRuleException`,
  template: `${REST_EXCEPTION}TemplateRenderingException`,
  notFound: `${REST_EXCEPTION}NotFoundException`,
  pathParams: `${REST_EXCEPTION}BadInputException`,
};

/** Where a failure happened: a step of a composite connector, a simple connector, or the request itself. */
export type FailureSite =
  | { kind: 'step'; name: string; index: number }
  | { kind: 'connector'; permalink: string }
  | { kind: 'request'; label: string };

export class ConnectorFailure extends Error {
  override name = 'ConnectorFailure';
  constructor(
    readonly kind: FailureKind,
    /** Machine-readable, e.g. `DOWNSTREAM_HTTP_ERROR`. */
    readonly code: string,
    /** Human text; built only from names, numbers and fixed words. */
    readonly detail: string,
    readonly site: FailureSite,
    readonly properties: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  get status(): number {
    return STATUS[this.kind];
  }

  get scope(): string {
    const s = this.site;
    const where =
      s.kind === 'step'
        ? `Composite step '${s.name}' (index ${s.index})`
        : s.kind === 'connector'
          ? `Connector '${s.permalink}'`
          : s.label;
    return `${where}: ${SCOPE_SUFFIX[this.kind]}`;
  }

  /** Re-sites a failure raised below the step level (template, outbound) onto the step it belongs to. */
  at(site: FailureSite): ConnectorFailure {
    return new ConnectorFailure(this.kind, this.code, this.detail, site, this.properties);
  }

  toBody(requestId: string): Record<string, unknown> {
    return {
      success: false,
      errors: { code: this.code, detail: this.detail, scope: this.scope },
      request_id: requestId,
      status: this.status,
      errorCode: ERROR_CODES[this.kind],
      userMessage: this.detail,
      developerMessage: `${this.scope}: ${this.detail}`,
      details: [{ message: this.scope, properties: { ...this.properties, ...siteProperties(this.site) } }],
    };
  }
}

function siteProperties(site: FailureSite): Record<string, unknown> {
  if (site.kind === 'step') return { step: site.name, index: site.index };
  if (site.kind === 'connector') return { permalink: site.permalink };
  return {};
}

export const REQUEST_SITE: FailureSite = { kind: 'request', label: 'Request' };
