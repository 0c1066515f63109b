// Owns the request headers that change how a call is handled rather than what it does: GW-DoNotCommit
// (dry run) and GW-UnknownPropertyHandling / GW-UnknownQueryParamHandling (unknown elements).
import type { Logger } from 'pino';
import { errors } from '../errors';
import { REQUEST_HEADERS } from './headers';

export type UnknownMode = 'reject' | 'log' | 'ignore';
const UNKNOWN_MODES: readonly UnknownMode[] = ['reject', 'log', 'ignore'];

export const DRY_RUN_HEADER = REQUEST_HEADERS.doNotCommit.name;
const UNKNOWN_PROPERTY_HEADER = REQUEST_HEADERS.unknownProperty.name;
const UNKNOWN_QUERY_PARAM_HEADER = REQUEST_HEADERS.unknownQueryParam.name;

/** At most this many names of dropped elements go into the one log line of a request. */
const MAX_LOGGED_NAMES = 20;

/**
 * How one request (and, inside a composite or batch, every subrequest of it) treats body members and
 * query parameters the operation does not define. What `log` drops is collected over the whole
 * request and written in one line by `flush`.
 */
export class UnknownElements {
  private readonly dropped = { properties: new Set<string>(), queryParams: new Set<string>() };

  constructor(
    readonly properties: UnknownMode,
    readonly queryParams: UnknownMode,
  ) {}

  /** Records elements dropped under `log` or `ignore` (`where` says which kind). */
  drop(where: 'properties' | 'queryParams', names: string[]): void {
    if (this[where] !== 'log') return;
    for (const name of names)
      if (this.dropped[where].size < MAX_LOGGED_NAMES) this.dropped[where].add(name.slice(0, 120));
  }

  /** Writes the request's one log line of what `log` dropped, if anything. */
  flush(logger: Logger, requestId: string): void {
    const { properties, queryParams } = this.dropped;
    if (properties.size + queryParams.size === 0) return;
    logger.info(
      { reqId: requestId, unknownProperties: [...properties], unknownQueryParams: [...queryParams] },
      'unknown request elements ignored',
    );
    properties.clear();
    queryParams.clear();
  }
}

/** The default: unknown members and parameters are refused (400). */
export const REJECT_UNKNOWN: UnknownElements = new UnknownElements('reject', 'reject');

export interface RequestOptions {
  dryRun: boolean;
  unknown: UnknownElements;
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

function badHeader(name: string, value: string, allowed: readonly string[]) {
  return errors.badInput(`${name} must be one of ${allowed.join(', ')}`, [
    { message: `Invalid ${name} header`, properties: { header: name, value: value.slice(0, 64), allowed } },
  ]);
}

/** GW-DoNotCommit: `true` or `false` (any case); anything else is a 400 naming the header. */
export function dryRunOf(headers: Record<string, string | string[] | undefined>): boolean {
  const value = headerValue(headers, DRY_RUN_HEADER);
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  if (v !== 'true' && v !== 'false') throw badHeader(DRY_RUN_HEADER, value, ['true', 'false']);
  return v === 'true';
}

function unknownModeOf(headers: Record<string, string | string[] | undefined>, name: string): UnknownMode {
  const value = headerValue(headers, name);
  if (value === undefined) return 'reject';
  const v = value.trim().toLowerCase() as UnknownMode;
  if (!UNKNOWN_MODES.includes(v)) throw badHeader(name, value, UNKNOWN_MODES);
  return v;
}

/** The options a request's headers ask for; a bad value is a 400 naming the header. */
export function requestOptions(headers: Record<string, string | string[] | undefined>): RequestOptions {
  const properties = unknownModeOf(headers, UNKNOWN_PROPERTY_HEADER);
  const queryParams = unknownModeOf(headers, UNKNOWN_QUERY_PARAM_HEADER);
  const unknown =
    properties === 'reject' && queryParams === 'reject' ? REJECT_UNKNOWN : new UnknownElements(properties, queryParams);
  return { dryRun: dryRunOf(headers), unknown };
}
