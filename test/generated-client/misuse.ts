// Uses of the generated types that must NOT compile: if the document typed these loosely (a method as
// any string, subresponses as open objects, the composite's 400 as the plain error body), the
// expect-error directives below would be unused and the type check in generatedClient.test.ts would fail.
import type { components, paths } from './api';

type CompositeRequest = paths['/composite/v1/composite']['post']['requestBody']['content']['application/json'];
type Subresponse = components['schemas']['Subresponse'];
type BadRequest = paths['/composite/v1/composite']['post']['responses'][400]['content']['application/json'];

// @ts-expect-error PUT is not a method a composite request may hold
export const put: CompositeRequest = { requests: [{ method: 'put', uri: '/common/v1/activities' }] };

export function errorCodeOf(entry: Subresponse): string {
  // @ts-expect-error an entry is not known to be an error until it is narrowed
  return entry.requestError.errorCode;
}

export function statusOf(body: BadRequest): number {
  // @ts-expect-error the 400 may be the requestFailed body, which has no status
  return body.status;
}

export function detailProperty(body: components['schemas']['Error']): unknown {
  // an error detail's properties are an open object: any member may be read
  return body.details[0]?.properties?.uri;
}
