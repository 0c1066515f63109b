// `npm run openapi`: writes openapi/openapi.json, the full OpenAPI 3.1 document, from the route table
// (the same document GET /openapi.json serves), so it can be read and diffed without a running server.
import fs from 'node:fs';
import path from 'node:path';
import { routeTableDocument } from '../openapi/routeTableDocument';

const target = path.resolve(process.cwd(), 'openapi/openapi.json');
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, `${JSON.stringify(routeTableDocument(), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
