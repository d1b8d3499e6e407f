/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile`, or node --cpu-prof): where the
 * time went, by package/area, by function (self time), and by Parley function (inclusive time).
 * Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top N] [--match REGEX] [--last SECONDS]
 * (--match: inclusive time of every function whose "name area:line" matches, e.g. --match 'markDelivered|announce';
 * --last: only the samples of the profile's last seconds, e.g. a measure that followed the sign-ins)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Where a frame's code lives: a package, Parley's own source, Node's internals, or V8 itself. */
export function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native/V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const src = /\/(src\/[^/]+\/(?:store\/)?[^/]*|bench\/[^/]*)$/.exec(url);
  if (src) return src[1]!;
  return path.basename(url);
}

function label(frame: CallFrame): string {
  const where = frame.url ? `${area(frame)}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${where}`.trim();
}

export interface Summary {
  totalMs: number;
  areas: [string, number][];
  self: [string, number][];
  parleyInclusive: [string, number][];
}

export function summarize(profile: Profile, match?: RegExp, lastSeconds?: number): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Self time per node from the samples and their time deltas (more exact than hitCount alone).
  const selfMs = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    const from = lastSeconds === undefined ? -Infinity : profile.endTime - lastSeconds * 1e6;
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas![i] ?? 0;
      if (at < from) return;
      const next = profile.timeDeltas![i + 1] ?? 0;
      selfMs.set(id, (selfMs.get(id) ?? 0) + Math.max(0, next) / 1000);
    });
  } else {
    if (lastSeconds !== undefined) throw new Error('--last needs a profile with samples and time deltas');
    const total = (profile.endTime - profile.startTime) / 1000;
    const hits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
    for (const n of profile.nodes) selfMs.set(n.id, ((n.hitCount ?? 0) / hits) * total);
  }
  const totalMs = [...selfMs.values()].reduce((a, b) => a + b, 0);

  const add = (map: Map<string, number>, key: string, ms: number): void => void map.set(key, (map.get(key) ?? 0) + ms);
  const areas = new Map<string, number>();
  const self = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    add(areas, area(node.callFrame), ms);
    add(self, label(node.callFrame), ms);
  }

  // Inclusive time of Parley's own functions (src/), counted once per stack even when recursive.
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const inclusive = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    if (ms === 0) continue;
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parents.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (match ? !match.test(label(frame)) : !frame.url.includes('/src/')) continue;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, ms);
    }
  }
  const top = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs, areas: top(areas), self: top(self), parleyInclusive: top(inclusive) };
}

function main(): void {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top N] [--match REGEX] [--last SECONDS]');
    process.exit(2);
  }
  const topIndex = process.argv.indexOf('--top');
  const n = topIndex > 0 ? Number(process.argv[topIndex + 1]) || 25 : 25;
  const matchIndex = process.argv.indexOf('--match');
  const match = matchIndex > 0 && process.argv[matchIndex + 1] ? new RegExp(process.argv[matchIndex + 1]!) : undefined;
  const lastIndex = process.argv.indexOf('--last');
  const last = lastIndex > 0 ? Number(process.argv[lastIndex + 1]) : undefined;
  if (last !== undefined && !(last > 0)) throw new Error('--last takes a number of seconds');
  const summary = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, match, last);
  const pct = (ms: number): string => `${((ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%`;
  const print = (title: string, rows: [string, number][]): void => {
    console.log(`\n${title}`);
    for (const [name, ms] of rows.slice(0, n)) console.log(`  ${pct(ms)} ${(ms / 1000).toFixed(2).padStart(8)} s  ${name}`);
  };
  console.log(`${file}: ${(summary.totalMs / 1000).toFixed(1)} s sampled`);
  print('By area (self time)', summary.areas);
  print('By function (self time)', summary.self);
  print(match ? `Functions matching ${match} (inclusive time)` : "Parley's functions (inclusive time)", summary.parleyInclusive);
}

if (require.main === module) main();
