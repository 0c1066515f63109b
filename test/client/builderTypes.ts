// Compile-time checks of the composite builder (src/client/composite.ts). `npm run typecheck` compiles this
// file, and test/client/compositeBuilder.test.ts compiles it on its own and again without its
// expect-error directives, which must then fail: each directive marks a use that must not compile.
import { ref, type CompositeApiClient } from '../../src/client';

export async function typedComposite(client: CompositeApiClient): Promise<string[]> {
  const result = await client
    .composite()
    .post('/common/v1/activities', { data: { attributes: { subject: 'Call the insured' } } })
    .as('activityId', '$.data.attributes.id')
    .post(
      `/common/v1/activities/${ref('activityId')}/notes`,
      { data: { attributes: { body: 'First call made' } } },
      { includeResponse: false },
    )
    .select(`/common/v1/activities/${ref('activityId')}`)
    .select(`/common/v1/activities/${ref('activityId')}/notes`, { fields: 'body' })
    .run();
  if (!result.ok) return [result.requestFailed.error.errorCode, String(result.requestFailed.index)];
  const activity = result.responses[0].body.data.attributes;
  const [one, notes] = result.selections;
  const seen = [String(activity.subject), String(result.responses[1].responseIncluded)];
  if (one.ok) seen.push(String(one.body.data.attributes.subject));
  if (notes.ok) seen.push(...notes.body.data.map((n) => String(n.attributes.body)));
  // @ts-expect-error the note was sent with includeResponse: false: its entry has no body
  seen.push(result.responses[1].body);
  // @ts-expect-error an activity has no attribute "body"
  seen.push(activity.body);
  return seen;
}

export function undeclaredRefs(client: CompositeApiClient): unknown[] {
  const start = client
    .composite()
    .post('/common/v1/activities', { data: { attributes: { subject: 's' } } })
    .as('activityId', '$.data.attributes.id');
  return [
    // @ts-expect-error "noteId" is not declared
    start.post(`/common/v1/activities/${ref('noteId')}/notes`, { data: { attributes: { body: 'b' } } }),
    // @ts-expect-error a ref in a body must be declared too
    start.post('/common/v1/activities', { data: { attributes: { subject: `about ${ref('other')}` } } }),
    client
      .composite()
      // @ts-expect-error a var declared later does not count for an earlier request
      .delete(`/common/v1/activities/${ref('later')}`)
      .post('/common/v1/activities', {})
      .as('later', '$.data.attributes.id'),
    // @ts-expect-error selections are checked as well
    start.select(`/common/v1/notes/${ref('activityID')}`),
    // declared ones compile, in uris, bodies, parameters and checksums
    start
      .patch(`/common/v1/activities/${ref('activityId')}`, {
        data: { attributes: { description: `see ${ref('activityId')}` } },
      })
      .delete(`/common/v1/activities/${ref('activityId')}`, { checksum: ref('activityId') })
      .select('/common/v1/activities', { filter: [`id:eq:${ref('activityId')}`] }),
  ];
}
