import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The cluster tier runs the built service: dist/ must be current (skipped when nothing changed). */
export default function setup() {
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'ensure-build.cjs')], { stdio: 'inherit' });
}
