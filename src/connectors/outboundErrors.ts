// Owns how an outbound request fails: refused by the outbound rule, or failed below HTTP; any error sorted into one.
export type OutboundRule = 'https-only' | 'public-address-only' | 'scheme' | 'redirect';

/** A request refused by the outbound rule; nothing was sent. */
export class OutboundRuleError extends Error {
  override name = 'OutboundRuleError';
  constructor(
    readonly rule: OutboundRule,
    message: string,
  ) {
    super(message);
  }
}

/** A request that was tried and failed below HTTP: refused connection, DNS, time-out, reset, too large. */
export class OutboundNetworkError extends Error {
  override name = 'OutboundNetworkError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function classify(err: unknown, timedOut: boolean, timeoutMs: number): Error {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OutboundRuleError || e instanceof OutboundNetworkError) return e;
  }
  if (timedOut)
    return new OutboundNetworkError('TIMEOUT', `no complete answer within ${timeoutMs} ms (CONNECTOR_TIMEOUT_MS)`);
  const code = String((err as { code?: string })?.code ?? (err as Error)?.name ?? 'ERROR')
    .replace(/[^A-Z0-9_]/gi, '')
    .slice(0, 40);
  return new OutboundNetworkError(code, `the request failed (${code})`);
}
