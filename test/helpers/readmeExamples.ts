// Owns reading README.md's marked examples (the convention is docs/readme-examples.md) and deciding
// whether an answer is the one the README shows.

export type StepKind = 'test' | 'server' | 'background';

export interface Expected {
  kind: 'http' | 'json';
  text: string;
}

export interface Step {
  kind: StepKind;
  code: string;
  /** 1-based line of the block's opening fence, for messages. */
  line: number;
  expect?: Expected;
}

interface Fence {
  info: string[];
  code: string;
  line: number;
  /** Line index just after the closing fence. */
  end: number;
}

function fences(text: string): Fence[] {
  const lines = text.split('\n');
  const out: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    out.push({ info: open[1].trim().split(/\s+/).filter(Boolean), code: body.join('\n'), line: start + 1, end: i + 1 });
  }
  return out;
}

const MARKS: Record<string, StepKind> = {
  'readme-test': 'test',
  'readme-server': 'server',
  'readme-background': 'background',
};

/** The marked blocks in order, each `readme-test` with the expect block that directly follows it (if any). */
export function readmeSteps(text: string): Step[] {
  const all = fences(text);
  const lines = text.split('\n');
  const steps: Step[] = [];
  all.forEach((f, i) => {
    const mark = f.info.find((w) => w in MARKS);
    if (!mark) return;
    const step: Step = { kind: MARKS[mark], code: f.code, line: f.line };
    const next = all[i + 1];
    const between = next ? lines.slice(f.end, next.line - 1) : [];
    if (next && next.info[1] === 'expect' && between.every((l) => l.trim() === '')) {
      if (next.info[0] !== 'http' && next.info[0] !== 'json')
        throw new Error(`README line ${next.line}: an expect block is \`http expect\` or \`json expect\``);
      step.expect = { kind: next.info[0], text: next.code };
    }
    steps.push(step);
  });
  return steps;
}

/** Splits concatenated JSON values (`{…}{…}` or one per line) into their texts. */
export function jsonValues(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    const start = i;
    if (text[i] === '{' || text[i] === '[') {
      let depth = 0;
      let inString = false;
      for (; i < text.length; i++) {
        const ch = text[i];
        if (inString) {
          if (ch === '\\') i++;
          else if (ch === '"') inString = false;
        } else if (ch === '"') inString = true;
        else if (ch === '{' || ch === '[') depth++;
        else if ((ch === '}' || ch === ']') && --depth === 0) break;
      }
      i++;
    } else {
      while (i < text.length && !/\s/.test(text[i])) i++;
    }
    out.push(text.slice(start, i));
  }
  return out;
}

export interface Answer {
  status?: number;
  headers: [string, string][];
  body?: string;
}

/** The answers an `http expect` block shows: each starts with its `HTTP/1.1 <status>` line. */
export function expectedHttp(text: string): Answer[] {
  const chunks = text.split(/^(?=HTTP\/)/m).filter((c) => c.trim() !== '');
  return chunks.map((chunk) => {
    const [head, ...rest] = chunk.split(/\n\s*\n/);
    const [statusLine, ...headerLines] = head.split('\n');
    const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1]);
    if (!status) throw new Error(`expected answer does not start with an HTTP status line: ${statusLine}`);
    const headers = headerLines
      .filter((l) => l.trim())
      .map((l): [string, string] => {
        const at = l.indexOf(':');
        return [l.slice(0, at).trim().toLowerCase(), l.slice(at + 1).trim()];
      });
    const body = rest.join('\n\n').trim();
    return { status, headers, body: body === '' ? undefined : body };
  });
}

/** Reads what `curl -si` printed: one or more responses, 1xx interim answers skipped. */
export function actualHttp(raw: Buffer): Answer[] {
  const out: Answer[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const headEnd = raw.indexOf('\r\n\r\n', pos);
    if (raw.subarray(pos, pos + 5).toString() !== 'HTTP/' || headEnd < 0) {
      throw new Error(`output is not an HTTP answer at byte ${pos}: ${raw.subarray(pos, pos + 80).toString()}`);
    }
    const [statusLine, ...headerLines] = raw.subarray(pos, headEnd).toString('utf8').split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers = headerLines.map((l): [string, string] => [
      l.slice(0, l.indexOf(':')).trim().toLowerCase(),
      l.slice(l.indexOf(':') + 1).trim(),
    ]);
    pos = headEnd + 4;
    if (status < 200) continue;
    const length = headers.find(([n]) => n === 'content-length');
    let end = length ? pos + Number(length[1]) : raw.indexOf('HTTP/', pos);
    if (end < 0) end = raw.length;
    const body = raw.subarray(pos, end).toString('utf8');
    out.push({ status, headers, body: body === '' ? undefined : body });
    pos = end;
  }
  return out;
}

/** The string that stands for "present, any value". */
export const ANY = '…';

/** Differences between what the README shows and the answer; members the README leaves out are not checked. */
export function subsetDiff(expected: unknown, actual: unknown, at = '$'): string[] {
  if (expected === ANY) return actual === undefined ? [`${at}: missing`] : [];
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${at}: expected an array, got ${JSON.stringify(actual)}`];
    if (actual.length !== expected.length) return [`${at}: expected ${expected.length} items, got ${actual.length}`];
    return expected.flatMap((e, i) => subsetDiff(e, actual[i], `${at}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return [`${at}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) =>
      subsetDiff(v, (actual as Record<string, unknown>)[k], `${at}.${k}`),
    );
  }
  return expected === actual ? [] : [`${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON: ${text.slice(0, 200)}`);
  }
}

/** Every way the output differs from the expect block (empty when it answers as shown). */
export function compare(expect: Expected, stdout: Buffer): string[] {
  if (expect.kind === 'json') {
    const want = jsonValues(expect.text);
    const got = jsonValues(stdout.toString('utf8'));
    if (got.length !== want.length)
      return [`expected ${want.length} JSON answers, got ${got.length}: ${stdout.toString('utf8').slice(0, 300)}`];
    return want.flatMap((w, i) =>
      subsetDiff(parseJson(w, 'the README answer'), parseJson(got[i], 'the answer'), `answer ${i + 1} $`),
    );
  }
  const want = expectedHttp(expect.text);
  const got = actualHttp(stdout);
  if (got.length !== want.length) return [`expected ${want.length} HTTP answers, got ${got.length}`];
  return want.flatMap((w, i) => {
    const g = got[i];
    const diffs: string[] = [];
    if (g.status !== w.status)
      diffs.push(
        `answer ${i + 1}: status ${g.status}, the README shows ${w.status} (body: ${(g.body ?? '').slice(0, 300)})`,
      );
    for (const [name, value] of w.headers) {
      const have = g.headers.find(([n]) => n === name)?.[1];
      if (have === undefined || (value !== ANY && have !== value))
        diffs.push(
          `answer ${i + 1}: header ${name} is ${JSON.stringify(have)}, the README shows ${JSON.stringify(value)}`,
        );
    }
    if (w.body !== undefined) {
      if (g.body === undefined) diffs.push(`answer ${i + 1}: no body`);
      else
        diffs.push(
          ...subsetDiff(parseJson(w.body, 'the README answer'), parseJson(g.body, 'the answer'), `answer ${i + 1} $`),
        );
    }
    return diffs;
  });
}
