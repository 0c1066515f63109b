// Owns the JSON text of answer bodies serialised before they are sent: an Idempotency-Key call writes
// its record around its body's JSON (src/durable/keyed.ts), and the HTTP answer (src/http/json.ts)
// sends those same bytes instead of serialising the body a second time.
const written = new WeakMap<object, string>();

/** `text` is the JSON of `body`, which will not change. */
export function rememberJson(body: object, text: string): void {
  written.set(body, text);
}

/** The JSON of `body` if it was remembered. */
export function rememberedJson(body: unknown): string | undefined {
  return typeof body === 'object' && body !== null ? written.get(body) : undefined;
}
