// Owns running connectors: steps one after another over a read-only context of earlier results,
// each rendered from its compiled templates, authenticated, sent through the outbound guard, and
// timed. The last step's status, content type and body are the result. A failure names the step
// and never carries an earlier step's data or a secret.
import type { Logger } from 'pino';
import type { CompiledComposite, CompiledSimple, CompiledStep } from './compile';
import { ConnectorFailure, type FailureSite } from './failure';
import type { ClientCredentials, TokenCache, Token } from './oauth';
import type { Outbound } from './outbound';
import { OutboundNetworkError, OutboundRuleError } from './outboundErrors';
import type { Observer } from '../observe';
import type { StepRenderer } from './stepRequest';

/** What the client sent, as templates see it. */
export interface ClientData {
  /** The body's bytes, and as text and as base64 (lossless for any content type) for templates. */
  body: Buffer;
  bodyText: string;
  bodyRaw: string;
  contentType: string | undefined;
  headers: Record<string, string>;
  query: Record<string, unknown>;
  pathParams: Record<string, string>;
}

export interface StepTiming {
  name: string;
  index: number;
  duration_ms: number;
  status_code?: number;
  token_ms?: number;
}

export type RunOutcome =
  | { ok: true; status: number; contentType: string; body: Buffer; timings: StepTiming[]; totalMs: number }
  | { ok: false; failure: ConnectorFailure; timings: StepTiming[]; totalMs: number };

interface StepResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The token endpoint's answer: its data is a secret to every later template. */
  fromToken?: boolean;
}

function ms(start: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100;
}

/** What the client sent, as templates see it. */
function requestContext(client: ClientData) {
  return {
    body_text: client.bodyText,
    body_raw: client.bodyRaw,
    headers: client.headers,
    query_parameters: client.query,
  };
}

/** Any error of a step as the failure reported for it (the one place errors are turned into failures). */
function outboundFailure(err: unknown, site: FailureSite): ConnectorFailure {
  if (err instanceof ConnectorFailure) return err.at(site);
  if (err instanceof OutboundRuleError)
    return new ConnectorFailure('outbound', 'OUTBOUND_RULE', `refused before sending: ${err.message}`, site, {
      rule: err.rule,
    });
  if (err instanceof OutboundNetworkError) {
    return new ConnectorFailure(
      'network',
      err.code === 'TIMEOUT' ? 'DOWNSTREAM_TIMEOUT' : 'DOWNSTREAM_NETWORK_ERROR',
      err.message,
      site,
      { networkCode: err.code },
    );
  }
  return new ConnectorFailure('network', 'DOWNSTREAM_NETWORK_ERROR', 'the request failed', site);
}

function sameUrl(a: URL, b: string): boolean {
  try {
    return a.href === new URL(b).href;
  } catch {
    return false;
  }
}

export class ConnectorRunner {
  constructor(
    private readonly outbound: Outbound,
    private readonly tokens: TokenCache,
    private readonly renderer: StepRenderer,
    private readonly logger: Logger,
    private readonly observer: Observer,
  ) {}

  runComposite(connector: CompiledComposite, client: ClientData): Promise<RunOutcome> {
    const request = requestContext(client);
    const steps: Record<string, { body: string; status_code: number; headers: Record<string, string> }> = {};
    const secretSteps: string[] = [];
    return this.run(
      connector.def.permalink,
      connector.steps.map((step, index) => ({
        step,
        site: { kind: 'step', name: step.name, index } as FailureSite,
        context: () => ({ request, steps }),
        secretSteps,
        record: (r: StepResult, body: string) => {
          steps[step.name] = { body, status_code: r.status, headers: r.headers };
          if (r.fromToken) secretSteps.push(step.name);
        },
      })),
    );
  }

  runSimple(connector: CompiledSimple, client: ClientData): Promise<RunOutcome> {
    const context = { ...requestContext(client), pathParams: client.pathParams };
    // Without a request_body template the client's body and content type pass through.
    const passThrough = client.body.length === 0 ? undefined : { body: client.body, contentType: client.contentType };
    return this.run(connector.def.permalink, [
      {
        step: connector.step,
        site: { kind: 'connector', permalink: connector.def.permalink },
        context: () => context,
        record: () => undefined,
        passThrough,
      },
    ]);
  }

  private async run(permalink: string, plan: PlannedStep[]): Promise<RunOutcome> {
    const start = process.hrtime.bigint();
    const timings: StepTiming[] = [];
    let last: { result: StepResult; body: Buffer } | undefined;
    for (const [index, p] of plan.entries()) {
      const stepStart = process.hrtime.bigint();
      const connector = p.site.kind === 'step' ? 'composite' : 'simple';
      const timing: StepTiming = { name: p.step.name, index, duration_ms: 0 };
      timings.push(timing);
      try {
        const result = await this.step(p, timing);
        timing.status_code = result.status;
        if (result.status >= 400) {
          throw new ConnectorFailure(
            'http',
            'DOWNSTREAM_HTTP_ERROR',
            `the step answered HTTP ${result.status}`,
            p.site,
            { upstreamStatus: result.status },
          );
        }
        let body = result.body;
        if (p.step.responseBody) {
          const response = { body: result.body.toString('utf8'), status_code: result.status, headers: result.headers };
          const [rendered] = await this.renderer.render(
            [{ field: 'response_body', template: p.step.responseBody }],
            { ...p.context(), response },
            p.site,
            p.secretSteps,
          );
          body = Buffer.from(rendered.value, 'utf8');
        }
        p.record(result, body.toString('utf8'));
        last = { result, body };
      } catch (err) {
        timing.duration_ms = ms(stepStart);
        const failure = outboundFailure(err, p.site);
        this.observer.connectorStep(connector, timing.duration_ms / 1000, failure.kind);
        this.logger.info(
          { connector: permalink, step: p.step.name, index, code: failure.code, status: failure.status },
          'connector step failed',
        );
        return { ok: false, failure, timings, totalMs: ms(start) };
      }
      timing.duration_ms = ms(stepStart);
      this.observer.connectorStep(connector, timing.duration_ms / 1000, undefined);
    }
    const done = last as { result: StepResult; body: Buffer };
    return {
      ok: true,
      status: done.result.status,
      contentType: done.result.headers['content-type'] ?? 'application/octet-stream',
      body: done.body,
      timings,
      totalMs: ms(start),
    };
  }

  private async step(p: PlannedStep, timing: StepTiming): Promise<StepResult> {
    const { step, site } = p;
    const { url, headers, body, secretHeaders, secretBody, creds } = await this.renderer.request(
      step,
      p.context(),
      site,
      p.secretSteps,
      p.passThrough,
    );
    // The rule is checked before any token request, so a refused URL sends nothing at all.
    this.outbound.check(url);
    const send = () =>
      this.outbound.send({
        method: step.method,
        url,
        headers,
        body,
        secretHeaders,
        secretBody,
        redirects: step.followRedirects,
      });
    if (!creds) return send();
    const token = await this.token(creds, timing);
    // A step addressed to the token URL itself is the token request: its body is the token response.
    if (sameUrl(url, creds.tokenUrl)) return { ...token.response, fromToken: true };
    headers.authorization = `Bearer ${token.accessToken}`;
    secretHeaders.add('authorization');
    const first = await send();
    if (first.status !== 401) return first;
    const fresh = await this.token(creds, timing, token);
    headers.authorization = `Bearer ${fresh.accessToken}`;
    return send();
  }

  private async token(creds: ClientCredentials, timing: StepTiming, stale?: Token): Promise<Token> {
    const start = process.hrtime.bigint();
    try {
      return (await this.tokens.get(creds, stale)).token;
    } finally {
      timing.token_ms = Math.round(((timing.token_ms ?? 0) + ms(start)) * 100) / 100;
    }
  }
}

interface PlannedStep {
  step: CompiledStep;
  site: FailureSite;
  context(): Record<string, unknown>;
  record(result: StepResult, body: string): void;
  /** Earlier steps whose data is a token response. */
  secretSteps?: readonly string[];
  passThrough?: { body: Buffer; contentType: string | undefined };
}
