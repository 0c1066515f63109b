// Owns public ids: `<ID_PREFIX>:<n>` to and from the integer stored in the database.

export interface IdCodec {
  prefix: string;
  format(n: number): string;
  /** The stored integer for a public id, or undefined when it is not one of ours. */
  parse(id: string): number | undefined;
}

export function idCodec(prefix: string): IdCodec {
  const head = `${prefix}:`;
  return {
    prefix,
    format: (n) => head + n,
    parse(id) {
      if (typeof id !== 'string' || !id.startsWith(head)) return undefined;
      const digits = id.slice(head.length);
      if (!/^[1-9][0-9]{0,15}$/.test(digits)) return undefined;
      const n = Number(digits);
      return Number.isSafeInteger(n) ? n : undefined;
    },
  };
}
