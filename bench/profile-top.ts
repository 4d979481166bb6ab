import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and by package.
 * Standalone: `node dist/bench/bench/profile-top.js <file.cpuprofile> [n]`.
 */

interface ProfileNode {
  id: number;
  hitCount?: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame comes from: an npm package, node itself, our own code, or the VM (GC, idle, program). */
function origin(url: string): string {
  if (!url) return '(vm)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node:internal';
  const own = /\/dist\/(?:bench\/)?(src\/[^/]+)/.exec(url);
  return own ? own[1] : url;
}

export interface ProfileSummary {
  totalMs: number;
  functions: Array<{ name: string; ms: number; share: number }>;
  packages: Array<{ name: string; ms: number; share: number }>;
}

export function summariseProfile(path: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, k) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[k] ?? 0)));
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    totalUs += us;
    const where = url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + us);
    packages.set(origin(url), (packages.get(origin(url)) ?? 0) + us);
  }
  const rank = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: Math.round((us / totalUs) * 1000) / 10 }));
  return { totalMs: Math.round(totalUs / 1000), functions: rank(functions), packages: rank(packages) };
}

export function formatSummary(label: string, summary: ProfileSummary): string {
  const lines = [`${label}: ${summary.totalMs} ms busy (idle excluded)`, '  self time by package:'];
  for (const entry of summary.packages) lines.push(`    ${entry.share.toFixed(1).padStart(5)} %  ${entry.name}`);
  lines.push('  self time by function:');
  for (const entry of summary.functions) lines.push(`    ${entry.share.toFixed(1).padStart(5)} %  ${entry.name}`);
  return lines.join('\n');
}

if (require.main === module) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-top <file.cpuprofile> [n]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatSummary(file, summariseProfile(file, Number(n) || 25))}\n`);
}
