// Owns the client's composite builder: requests and selections added one call at a time, vars declared with
// `.as(name, path)` and used with `ref(name)`. The builder's type accumulates the declared var names (a ref to
// one not yet declared does not compile where the uri or body is a literal) and the type of every entry,
// so `run()` resolves to typed responses and selections, or a typed `requestFailed`.
import type { CompositeBody, SubRequest, SubSelection } from '../composite/parse';
import type { ErrorBody } from '../errors';
import type {
  CompositeResult,
  Declared,
  FailedEntry,
  Item,
  Ran,
  Ref,
  RequestEntry,
  RequestOptions,
  ResourceAt,
  SelectedAt,
  Selection,
} from './compositeTypes';
import { errorFor } from './errors';

/** What the builder needs from the client: one POST of a composite body, answered with status, body and Server-Timing. */
export type CompositeExchange = (
  body: CompositeBody,
  headers: Record<string, string>,
) => Promise<{ status: number; body: unknown; serverTiming: string }>;

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** `${name}`: stands in a uri, a body string or a parameter for the value of the var `name`. */
export function ref<const N extends string>(name: N): Ref<N> {
  if (!VAR_NAME.test(name))
    throw new TypeError(`"${name}" is not a var name (a letter or _, then letters, digits or _)`);
  return `\${${name}}`;
}

type SelectionParameters = NonNullable<SubSelection['parameters']>;
type Body = NonNullable<unknown>;

export class CompositeBuilder<
  Vars extends string = never,
  Res extends readonly unknown[] = [],
  Sel extends readonly unknown[] = [],
> {
  constructor(
    private readonly exchange: CompositeExchange,
    private readonly requests: readonly SubRequest[] = [],
    private readonly selections: readonly SubSelection[] = [],
  ) {}

  /** A POST; an action that takes no body (complete) is sent without one. */
  post<
    const U extends string,
    const B extends Body | undefined = undefined,
    const O extends RequestOptions = Record<never, never>,
  >(
    uri: U & Declared<U, Vars>,
    body?: B & Declared<B, Vars>,
    opts?: O,
  ): CompositeBuilder<Vars, [...Res, RequestEntry<Item<ResourceAt<U>>, O>], Sel> {
    return this.withRequest('post', uri, body, opts);
  }

  patch<const U extends string, const B extends Body, const O extends RequestOptions = Record<never, never>>(
    uri: U & Declared<U, Vars>,
    body: B & Declared<B, Vars>,
    opts?: O,
  ): CompositeBuilder<Vars, [...Res, RequestEntry<Item<ResourceAt<U>>, O>], Sel> {
    return this.withRequest('patch', uri, body, opts);
  }

  delete<const U extends string, const O extends RequestOptions = Record<never, never>>(
    uri: U & Declared<U, Vars>,
    opts?: O & Declared<O, Vars>,
  ): CompositeBuilder<Vars, [...Res, RequestEntry<undefined, O>], Sel> {
    return this.withRequest('delete', uri, undefined, opts);
  }

  /** Declares the var `name`: the JSONPath `path` read from the last request's response body. */
  as<const N extends string>(name: N, path: `$${string}`): CompositeBuilder<Vars | N, Res, Sel> {
    const last = this.requests[this.requests.length - 1];
    if (last === undefined) throw new TypeError(`.as("${name}") needs a request before it to read from`);
    if (!VAR_NAME.test(name))
      throw new TypeError(`"${name}" is not a var name (a letter or _, then letters, digits or _)`);
    const declared: SubRequest = { ...last, vars: [...(last.vars ?? []), { name, path }] };
    return new CompositeBuilder(this.exchange, [...this.requests.slice(0, -1), declared], this.selections);
  }

  /** A GET that runs after the commit; it fails or succeeds on its own. */
  select<const U extends string, const P extends SelectionParameters = Record<never, never>>(
    uri: U & Declared<U, Vars>,
    parameters?: P & Declared<P, Vars>,
  ): CompositeBuilder<Vars, Res, [...Sel, SelectedAt<U>]> {
    return new CompositeBuilder(this.exchange, this.requests, [
      ...this.selections,
      { uri, ...(parameters ? { parameters } : {}) },
    ]);
  }

  /** The composite body as it will be sent. */
  toRequest(): CompositeBody {
    return {
      ...(this.requests.length > 0 ? { requests: [...this.requests] } : {}),
      ...(this.selections.length > 0 ? { selections: [...this.selections] } : {}),
    };
  }

  /**
   * Sends the composite. A failed request resolves to `{ok: false, requestFailed}` (nothing was committed);
   * a composite refused before it ran, or any other error, rejects with ApiRequestError.
   */
  async run(opts: { transactionId?: string } = {}): Promise<CompositeResult<Res, Sel>> {
    const headers: Record<string, string> =
      opts.transactionId !== undefined ? { 'GW-DBTransaction-ID': opts.transactionId } : {};
    const answer = await this.exchange(this.toRequest(), headers);
    if (answer.status === 200) {
      const body = answer.body as { responses: unknown[]; selections?: Array<Ran<unknown>> };
      const selections = (body.selections ?? []).map(selectionOf);
      return {
        ok: true,
        responses: body.responses as unknown as Res,
        selections: selections as { [K in keyof Sel]: Selection<Sel[K]> },
        serverTiming: answer.serverTiming,
      };
    }
    const failed = answer.body as { requestFailed?: true; responses?: FailedEntry[] };
    if (answer.status === 400 && failed.requestFailed === true && failed.responses) {
      const index = failed.responses.findIndex((e) => 'requestError' in e);
      const entry = failed.responses[index] as { requestError: ErrorBody };
      return {
        ok: false,
        requestFailed: { index, error: entry.requestError, responses: failed.responses },
        serverTiming: answer.serverTiming,
      };
    }
    throw errorFor(answer.status, answer.body);
  }

  private withRequest<R extends readonly unknown[]>(
    method: 'post' | 'patch' | 'delete',
    uri: string,
    body: unknown,
    opts: RequestOptions | undefined,
  ): CompositeBuilder<Vars, R, Sel> {
    const request: SubRequest = {
      method,
      uri,
      ...(body !== undefined ? { body } : {}),
      ...(opts?.fields !== undefined ? { parameters: { fields: opts.fields } } : {}),
      ...(opts?.includeResponse !== undefined ? { includeResponse: opts.includeResponse } : {}),
      ...(opts?.checksum !== undefined ? { headers: { 'GW-Checksum': opts.checksum } } : {}),
    };
    return new CompositeBuilder(this.exchange, [...this.requests, request], this.selections);
  }
}

function selectionOf(entry: Ran<unknown>): Selection<unknown> {
  return entry.status < 400
    ? { ok: true, status: entry.status, headers: entry.headers, body: entry.body }
    : { ok: false, status: entry.status, error: entry.body as ErrorBody };
}
