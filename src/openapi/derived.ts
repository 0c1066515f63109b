// Owns what the OpenAPI document says about an operation that follows from the route table rather than
// being written per operation: its description, its 4xx answers, its request headers and tag texts. So an
// operation added anywhere documents itself completely, and the document lints clean without per-op text.
import { SHARED_REQUEST_HEADERS, type HeaderDef } from '../api/headers';
import type { OpResponse, Operation } from '../api/operation';

const TAG_DESCRIPTIONS: Record<string, string> = {
  Activities: 'Activities: create, read, update, delete, search, assign and complete (`/common/v1`)',
  Notes: 'Notes on activities (`/common/v1`)',
  Users: 'Users, their roles and passwords; admin only (`/admin/v1`)',
  Composite: 'Many writes in one database transaction, with variables between them and selections after the commit',
  Connectors: 'Declarative outbound HTTP calls and chains, and their registry',
};

export function tagDescription(tag: string): string {
  return TAG_DESCRIPTIONS[tag] ?? `The ${tag} operations`;
}

function list(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** The operation's own description, or one said from its summary, the roles that may call it and its composite flag. */
export function operationDescription(op: Operation): string {
  if (op.description) return op.description;
  const composite = op.allowForComposite
    ? `May be used inside a composite (\`x-gw-allowForCompositeApi: true\`)${op.method === 'get' ? ' as a selection' : ' as a request'}.`
    : 'Not allowed inside a composite (`x-gw-allowForCompositeApi: false`).';
  return `${op.summary}. Callers with the role ${list(op.roles)} may call it. ${composite}`;
}

/** Every request header the operation reads: its own and the shared ones that apply to it. */
export function requestHeaders(op: Operation): HeaderDef[] {
  const shared = SHARED_REQUEST_HEADERS.filter((s) => s.appliesTo(op)).map((s) => s.header);
  const own = op.headers ?? [];
  return [...shared.filter((h) => !own.some((o) => o.name === h.name)), ...own];
}

/**
 * The operation's answers: those it declares, plus each 4xx that follows from its shape and that it does
 * not declare itself. Every /rest operation needs credentials and a role; every one refuses unknown query
 * parameters; a path id may name nothing; a checksum may be stale.
 */
export function allResponses(op: Operation): OpResponse[] {
  const derived: OpResponse[] = [
    {
      status: 400,
      description: 'Bad input: an unknown or invalid query parameter, header or body; nothing was changed',
    },
    { status: 401, description: 'Missing or wrong credentials (the answer carries WWW-Authenticate)' },
    { status: 403, description: `The caller's roles do not include ${list(op.roles)}` },
  ];
  if (/\{\w+\}/.test(op.path)) derived.push({ status: 404, description: 'No such resource' });
  if (op.checksumHeader)
    derived.push({ status: 409, description: 'The checksum sent is not the current one; nothing was changed' });
  if (op.method !== 'get') {
    // Every write, composite and batch takes Idempotency-Key and Prefer: respond-async (src/durable).
    derived.push(
      {
        status: 202,
        description: 'Accepted (Prefer: respond-async): read the record at GW-Async-Location',
        headers: ['GW-Async-Location'],
      },
      { status: 409, description: 'A request with this Idempotency-Key is still running' },
      { status: 422, description: 'This Idempotency-Key was used for a different request' },
    );
  }
  // A status the operation declares keeps its own meaning; two derived meanings of one status are both said.
  const byStatus = new Map<number, OpResponse>(op.responses.map((r) => [r.status, r]));
  for (const r of derived) {
    const known = byStatus.get(r.status);
    if (!known) byStatus.set(r.status, r);
    else if (!op.responses.includes(known))
      byStatus.set(r.status, {
        ...known,
        description: `${known.description}; or: ${r.description.charAt(0).toLowerCase()}${r.description.slice(1)}`,
      });
  }
  return [...byStatus.values()].sort((a, b) => a.status - b.status);
}
