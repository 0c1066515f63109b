// Owns the API reference at /docs: Swagger UI (swagger-ui-dist, installed with the project — nothing from
// a CDN) rendering the same OpenAPI document as /openapi.json, behind the same authentication unless
// DOCS_PUBLIC=true, with a Content-Security-Policy that lets only this route load its own scripts and styles.
import path from 'node:path';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Config } from '../config';
import { sendJson } from './json';
import { docsContentSecurityPolicy } from './security';

/** The files of swagger-ui-dist the page loads; nothing else in the package is served. */
const ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];
const ASSET_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Composite API server — API reference</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
`;

// showExtensions: the reference shows x-gw-allowForCompositeApi on each operation and parameter.
// validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io.
// ExtensionValues: Swagger UI 5 shows an operation extension that is false as "null"
// (its OperationExtRow component maps falsy values to null); the composite flag's false must read false.
const INIT = `const ExtensionValues = (system) => ({
  components: {
    OperationExtRow: ({ xKey, xVal }) => {
      const h = system.React.createElement;
      const value = xVal && xVal.toJS ? xVal.toJS() : xVal;
      return h('tr', null, h('td', null, xKey), h('td', null, JSON.stringify(value)));
    },
  },
});
window.ui = SwaggerUIBundle({
  url: '/docs/openapi.json', dom_id: '#docs', deepLinking: true, showExtensions: true,
  showCommonExtensions: true, validatorUrl: null, defaultModelsExpandDepth: 0, plugins: [ExtensionValues],
});
`;

/**
 * /docs, /docs/openapi.json (the document the page renders, under the same gate as the page) and
 * /docs/assets/*. `auth` is the /rest authentication; DOCS_PUBLIC=true opens the three to anyone.
 */
export function docsRouter(config: Config, auth: RequestHandler, document: () => unknown): express.Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const gate: RequestHandler = config.docsPublic ? (_req: Request, _res: Response, next: NextFunction) => next() : auth;
  router.use(gate, docsContentSecurityPolicy());
  router.get('/', (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/openapi.json', (_req, res) => sendJson(res, 200, document()));
  router.get('/assets/init.js', (_req, res) => {
    res.type('js').send(INIT);
  });
  router.get('/assets/:file', (req, res, next) => {
    if (!ASSETS.includes(req.params.file)) return next();
    res.sendFile(path.join(ASSET_DIR, req.params.file));
  });
  return router;
}
