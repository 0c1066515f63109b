// Owns the types of the client's composite builder: var references checked against the vars declared so
// far (`${name}` inside a uri or body that is a literal type), and the resource a uri answers with, so the
// builder's result is typed entry by entry.
import type { ErrorBody } from '../errors';
import type { ActivityAttributes } from '../resources/activities/definition';
import type { NoteAttributes } from '../resources/notes/definition';
import type { UserAttributes } from '../resources/users/definition';

/** What `ref(name)` stands for: the server replaces it with the var's value. */
export type Ref<N extends string> = `\${${N}}`;

/** The var names a literal string refers to (`${name}`); nothing for a plain `string`. */
export type RefsIn<S> = S extends `${string}\${${infer N}}${infer Rest}` ? N | RefsIn<Rest> : never;

/** The var names referred to anywhere in a value: its strings, at any depth. */
export type RefsInValue<T> = T extends string
  ? RefsIn<T>
  : T extends readonly (infer E)[]
    ? RefsInValue<E>
    : T extends object
      ? { [K in keyof T]: RefsInValue<T[K]> }[keyof T]
      : never;

/**
 * `unknown` when every var `T` refers to is in `Declared`; otherwise a type no value has, which names the
 * undeclared var in the compiler's message.
 */
export type Declared<T, Declared extends string> = [Exclude<RefsInValue<T>, Declared>] extends [never]
  ? unknown
  : { undeclaredVar: Exclude<RefsInValue<T>, Declared> };

export interface Links {
  [rel: string]: { href: string; methods: string[] };
}
export interface Item<A> {
  data: { attributes: A; checksum: string; links: Links };
}
export interface Collection<A> {
  count: number;
  total?: number;
  data: Array<Item<A>['data']>;
  links: Links;
}

/** The attributes a uri's item carries; `unknown` where the builder does not know the resource. */
export type ResourceAt<U extends string> = U extends `/common/v1/activities/${string}/notes`
  ? NoteAttributes
  : U extends `/common/v1/activities${'' | `/${string}`}`
    ? ActivityAttributes
    : U extends `/common/v1/notes/${string}`
      ? NoteAttributes
      : U extends `/admin/v1/users${'' | `/${string}`}`
        ? UserAttributes
        : unknown;

/** What a GET of the uri answers: a collection for a collection path, else one item. */
export type SelectedAt<U extends string> = U extends
  `/common/v1/activities` | `/common/v1/activities/${string}/notes` | `/admin/v1/users`
  ? Collection<ResourceAt<U>>
  : Item<ResourceAt<U>>;

/** A request that ran: its status, headers (GW-Checksum, Location) and body. */
export interface Ran<B> {
  status: number;
  headers: Record<string, string>;
  body: B;
}
export interface NotIncluded {
  responseIncluded: false;
}
/** A request sent with includeResponse: false answers `{responseIncluded: false}`. */
export type RequestEntry<B, O> = O extends { includeResponse: false } ? NotIncluded : Ran<B>;

/** A selection: each succeeds or fails on its own. */
export type Selection<B> =
  | { ok: true; status: number; headers: Record<string, string>; body: B }
  | { ok: false; status: number; error: ErrorBody };

/** An entry of a failed composite: as in the 200, or the failure, or skipped. */
export type FailedEntry = Ran<unknown> | NotIncluded | { requestError: ErrorBody } | { skipped: true };

export type CompositeResult<Res extends readonly unknown[], Sel extends readonly unknown[]> =
  | { ok: true; responses: Res; selections: { [K in keyof Sel]: Selection<Sel[K]> }; serverTiming: string }
  | {
      ok: false;
      /** The 400 `requestFailed` answer: nothing was committed and no selection ran. */
      requestFailed: { index: number; error: ErrorBody; responses: FailedEntry[] };
      serverTiming: string;
    };

export interface RequestOptions {
  /** `fields`, the only query parameter a request may carry. */
  fields?: string;
  includeResponse?: boolean;
  /** GW-Checksum for a DELETE or an action; may be a ref. */
  checksum?: string;
}
