// Owns which credentials the server accepts: HTTP Basic against the users table, and Bearer JWTs
// from a remote JWKS when JWT_JWKS_URL is set.
import type { Knex } from 'knex';
import type { Caller, Services } from '../api/operation';
import { BasicAuthenticator } from './basic';
import { JwtAuthenticator } from './jwt';

/** Something that can say who an Authorization header belongs to (undefined: it cannot). */
export interface CredentialCheck {
  scheme: 'Basic' | 'Bearer';
  authenticate(header: string): Promise<Caller | undefined>;
}

export function credentialChecks(services: Services, knex: Knex): CredentialCheck[] {
  const basic = new BasicAuthenticator(knex);
  const checks: CredentialCheck[] = [{ scheme: 'Basic', authenticate: (header) => basic.authenticate(header) }];
  const jwt = services.config.jwt;
  if (jwt) {
    const bearer = new JwtAuthenticator(knex, jwt, services.logger);
    checks.push({ scheme: 'Bearer', authenticate: (header) => bearer.authenticate(header) });
  }
  return checks;
}
