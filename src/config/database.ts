// Owns DATABASE_URL: which database the server uses, a SQLite file or a PostgreSQL URL.
import path from 'node:path';
import { ConfigError } from './values';

export type DatabaseConfig =
  | {
      kind: 'sqlite';
      filename: string;
      /** Only the default location's folder (./data) is created at start. */ createFolder?: boolean;
    }
  | { kind: 'postgres'; url: string };

/** Parses DATABASE_URL: `sqlite:<path>`, `sqlite::memory:` or `postgres://…`. */
export function parseDatabaseUrl(raw: string): DatabaseConfig {
  if (raw === 'sqlite::memory:') return { kind: 'sqlite', filename: ':memory:' };
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length);
    if (!file) throw new ConfigError('DATABASE_URL sqlite:<path> needs a path');
    return { kind: 'sqlite', filename: path.resolve(file) };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError('DATABASE_URL is not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: raw };
  }
  throw new ConfigError('DATABASE_URL must start with sqlite: or postgres://');
}
