// Owns which credentials the server accepts: HTTP Basic against the users table, and Bearer JWTs
// from a remote JWKS when JWT_JWKS_URL is set.
import type { Services } from '../api/operation';
import type { CredentialCheck } from '../http/authenticate';
import { BasicAuthenticator } from './basic';
import { JwtAuthenticator } from './jwt';

export function credentialChecks(services: Services): CredentialCheck[] {
  const basic = new BasicAuthenticator(services.knex);
  const checks: CredentialCheck[] = [{ scheme: 'Basic', authenticate: (header) => basic.authenticate(header) }];
  const jwt = services.config.jwt;
  if (jwt) {
    const bearer = new JwtAuthenticator(services.knex, jwt, services.logger);
    checks.push({ scheme: 'Bearer', authenticate: (header) => bearer.authenticate(header) });
  }
  return checks;
}
