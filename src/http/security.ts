// Owns HTTP hygiene applied to every response: helmet's headers tuned for a JSON API (nothing but /docs
// is ever rendered as a page), and no caching of API answers by browsers or proxies.
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

export function securityMiddleware() {
  const headers = helmet({
    // A JSON API loads nothing and may be framed by nobody.
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    headers(req, res, (err?: unknown) => {
      if (err) return next(err);
      // Answers carry personal data and checksums; a cached copy is stale or leaks to the next user.
      res.setHeader('Cache-Control', 'no-store');
      next();
    });
  };
}

/**
 * The one page the server renders, /docs, loads its own script and stylesheet and fetches the document
 * from this origin; Swagger UI sets inline style attributes and draws icons from data: URLs. Replaces the
 * JSON API's `default-src 'none'` on that route only.
 */
export function docsContentSecurityPolicy() {
  return helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
    },
  });
}
