import { builtinModules } from 'node:module';

/** Modules a bundle may require wherever it runs: Node's own, and ws's optional helpers (it falls back without them). */
const NODE_PROVIDED = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'bufferutil', 'utf-8-validate']);
/** The store's way to start its worker from the sources (src/server/store/worker-store.ts), taken only when
 * sqlite-worker.js is not beside the bundle (the packages have it). */
const SOURCE_ONLY = new Set(['tsx/cjs']);

/** The modules a bundle's code require()s by name. */
export function requiredModules(code: string): string[] {
  return [...new Set([...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!))];
}

/** Whether a package that holds a bundle can satisfy its require(`name`): Node has it, the host (`hosted`) provides
 * it, or it is a bundle beside it (`beside` says whether that file is there). */
export function canRequire(name: string, beside: (file: string) => boolean, hosted: string[] = []): boolean {
  if (NODE_PROVIDED.has(name) || SOURCE_ONLY.has(name) || hosted.includes(name)) return true;
  return name.startsWith('./') && beside(name.slice(2));
}
