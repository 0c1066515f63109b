// Owns which credentials the server accepts: HTTP Basic against the users table.
import type { Services } from '../api/operation';
import type { CredentialCheck } from '../http/authenticate';
import { BasicAuthenticator } from './basic';

export function credentialChecks(services: Services): CredentialCheck[] {
  const basic = new BasicAuthenticator(services.knex);
  return [{ scheme: 'Basic', authenticate: (header) => basic.authenticate(header) }];
}
