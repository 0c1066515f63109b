// openapi/openapi.json is the document the server serves; this fails when the route table changes
// and `npm run openapi` was not run.
import fs from 'node:fs';
import path from 'node:path';
import { routeTableDocument } from '../../src/openapi/routeTableDocument';

test('openapi/openapi.json is up to date with the route table', () => {
  const committed = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../openapi/openapi.json'), 'utf8'));
  expect(committed).toEqual(routeTableDocument());
});
