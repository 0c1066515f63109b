// Owns Bearer authentication with JWTs signed by keys from a remote JWKS: signature, exp/nbf, issuer
// and audience checked by jose; subject = username, `roles` claim = roles.
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { createRemoteJWKSet, errors as jose, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ROLES, type Caller, type Role } from '../api/operation';
import { errors } from '../errors';
import type { Config } from '../config';
import { findUserByUsername } from './users';

export type JwtSettings = NonNullable<Config['jwt']>;

export interface JwksOptions {
  /** After a fetch, how long an unknown `kid` waits before it may trigger another fetch (amplification guard). */
  cooldownMs?: number;
  /** How long fetched keys are trusted before they are fetched again. */
  cacheMaxAgeMs?: number;
  /** Time-out of one JWKS request. */
  timeoutMs?: number;
}

/**
 * Asymmetric algorithms only: a key set published for verification must never be usable as an HMAC
 * secret (algorithm confusion), and `none` is never accepted.
 */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
const MAX_TOKEN_LENGTH = 8192;
const MAX_SUBJECT_LENGTH = 255;

/** The key source could not be reached or answered nonsense: the server's problem, not the client's. */
class KeySourceUnavailable extends Error {
  override name = 'KeySourceUnavailable';
}

/** Errors from key lookup that a token can cause (an unknown or ambiguous kid, an unusable alg). */
function causedByToken(err: unknown): boolean {
  return (
    err instanceof jose.JWKSNoMatchingKey ||
    err instanceof jose.JWKSMultipleMatchingKeys ||
    err instanceof jose.JOSENotSupported ||
    err instanceof jose.JOSEAlgNotAllowed
  );
}

/** `roles` as an array of strings (or one string); only the server's own roles are kept. */
export function rolesFromClaim(claim: unknown): Role[] {
  const values = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/[\s,]+/) : [];
  return ROLES.filter((role) => values.includes(role));
}

function validSubject(sub: unknown): sub is string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a subject must not hold
  const control = /[\u0000-\u001f\u007f]/;
  return typeof sub === 'string' && sub.length > 0 && sub.length <= MAX_SUBJECT_LENGTH && !control.test(sub);
}

export class JwtAuthenticator {
  private readonly keys: JWTVerifyGetKey;

  constructor(
    private readonly knex: Knex,
    private readonly settings: JwtSettings,
    private readonly logger: Logger,
    options: JwksOptions = {},
  ) {
    // createRemoteJWKSet caches the set, and fetches it again when a token names a kid it does not hold.
    const remote = createRemoteJWKSet(new URL(settings.jwksUrl), {
      cooldownDuration: options.cooldownMs ?? 30_000,
      cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
      timeoutDuration: options.timeoutMs ?? 5_000,
    });
    this.keys = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        if (causedByToken(err)) throw err;
        throw new KeySourceUnavailable();
      }
    };
  }

  /** The caller, or undefined for any token that does not verify. Throws 503 when the JWKS cannot be fetched. */
  async authenticate(header: string): Promise<Caller | undefined> {
    const m = header.length <= MAX_TOKEN_LENGTH + 7 ? BEARER.exec(header.trim()) : null;
    if (!m) return undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(m[1], this.keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: JWT_ALGORITHMS,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      if (err instanceof KeySourceUnavailable) {
        this.logger.error({ jwks: this.settings.jwksUrl }, 'JWKS could not be fetched');
        throw errors.serviceUnavailable("The token issuer's signing keys cannot be fetched right now", 5);
      }
      // The reason code only: never the token or its claims.
      this.logger.info({ reason: (err as { code?: string }).code ?? 'invalid' }, 'bearer token refused');
      return undefined;
    }
    if (!validSubject(payload.sub)) return undefined;
    const username = payload.sub;
    const roles = rolesFromClaim(payload.roles);
    const row = await findUserByUsername(this.knex, username);
    // A local account that an admin switched off stays switched off, whatever the issuer says.
    if (row && !row.active) return undefined;
    const name =
      typeof payload.name === 'string' && payload.name.length <= MAX_SUBJECT_LENGTH ? payload.name : undefined;
    return {
      id: row ? Number(row.id) : undefined,
      username,
      displayName: row?.display_name ?? name ?? username,
      roles,
    };
  }
}
