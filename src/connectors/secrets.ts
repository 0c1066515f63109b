// Owns connector secrets for get_secret(): the JSON object in CONNECTOR_SECRETS_FILE plus
// CONNECTOR_SECRET_<NAME> environment variables (the variable wins). Values never leave this
// module except into a rendered header, query or authentication value (rendered in a worker thread
// of this process, which receives a snapshot).
import fs from 'node:fs';
import sjson from 'secure-json-parse';
import { TemplateDataError } from './template';

export const SECRET_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export class SecretStore {
  private constructor(private readonly values: ReadonlyMap<string, string>) {}

  /** Reads the file (if configured) and the environment; throws an Error naming the problem, not a value. */
  static load(file: string | undefined, env: Record<string, string | undefined>): SecretStore {
    const values = new Map<string, string>();
    if (file) {
      let parsed: unknown;
      try {
        parsed = sjson.parse(fs.readFileSync(file, 'utf8'), undefined, {
          protoAction: 'error',
          constructorAction: 'error',
        });
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? 'not valid JSON';
        throw new Error(`CONNECTOR_SECRETS_FILE cannot be read (${reason})`);
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('CONNECTOR_SECRETS_FILE must hold a JSON object of name → text');
      for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
        if (typeof value !== 'string') throw new Error(`CONNECTOR_SECRETS_FILE: secret "${name}" must be text`);
        values.set(name, value);
      }
    }
    for (const [key, value] of Object.entries(env)) {
      if (key.startsWith('CONNECTOR_SECRET_') && key !== 'CONNECTOR_SECRETS_FILE' && value !== undefined) {
        values.set(envName(key.slice('CONNECTOR_SECRET_'.length)), value);
      }
    }
    return new SecretStore(values);
  }

  static empty(): SecretStore {
    return new SecretStore(new Map());
  }

  /** Every name and value, for the render worker (same process; nothing leaves it). */
  snapshot(): ReadonlyMap<string, string> {
    return this.values;
  }

  static fromSnapshot(values: ReadonlyMap<string, string>): SecretStore {
    return new SecretStore(values);
  }

  /** get_secret(name): file names exactly; CONNECTOR_SECRET_OAUTH_CLIENT_ID answers 'oauth_client_id'. */
  get(name: unknown): string {
    const key = String(name);
    if (!SECRET_NAME.test(key)) throw new TemplateDataError('get_secret needs a name of letters, digits, _ . -');
    const value = this.values.get(envName(key)) ?? this.values.get(key);
    if (value === undefined) throw new TemplateDataError(`get_secret: no secret named "${key}" is configured`);
    return value;
  }
}

function envName(name: string): string {
  return `env:${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}
