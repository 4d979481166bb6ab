import { spawn } from 'node:child_process';
import { join } from 'node:path';

const OPS = join(__dirname, '..', '..', 'dist', 'src', 'cli', 'payments-ops.js');

/** Runs the built `payments-ops` CLI as ops would, with the given environment. */
export function runOpsCli(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [OPS, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
