// Runs the project's TypeScript compiler (and other CLIs from node_modules/.bin) as a child process, for
// tests that check what compiles — generated clients, type-level checks — exactly as a developer's build would.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runBin(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      path.join(ROOT, 'node_modules/.bin', name),
      args,
      { cwd: ROOT, env, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** A fresh directory under test-output/ (git-ignored), inside the project so node_modules resolves from it. */
export function outputDir(prefix: string): string {
  const base = path.join(ROOT, 'test-output');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

/** Compiles `files` in `dir` with the project's strict settings; emits CommonJS into dir/out when `emit`. */
export async function compile(dir: string, files: string[], emit: boolean): Promise<CliRun> {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'commonjs',
      moduleResolution: 'node',
      lib: ['ES2022', 'DOM'],
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      ...(emit ? { outDir: 'out', rootDir: '.' } : { noEmit: true }),
    },
    files,
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
  return runBin('tsc', ['-p', dir, '--pretty', 'false']);
}
