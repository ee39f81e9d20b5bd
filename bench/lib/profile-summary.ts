/**
 * `node bench/lib/profile-summary.ts <file.cpuprofile> [top]`: a V8 CPU profile summarised by self
 * time per function and per module (Lock's src/ files, each package of node_modules, node:
 * internals), and by inclusive time per Lock function (time in it and everything it called).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

// Time per sample: the delta to the next sample (V8's own convention).
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + delta);
}
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

function moduleOf(url: string): string {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.indexOf('/src/');
  if (src >= 0 && !url.startsWith('node:')) return url.slice(src + 1);
  if (url.startsWith('node:')) return 'node:internal';
  return url;
}
const fnName = (node: ProfileNode) =>
  `${node.callFrame.functionName || '(anonymous)'} ${moduleOf(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = profile.nodes
  .filter((node) => node.callFrame.functionName === '(idle)')
  .reduce((sum, node) => sum + (selfUs.get(node.id) ?? 0), 0);
const busy = total - idle;
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;

const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
const selfByFn = new Map<string, number>();
const selfByModule = new Map<string, number>();
// Native and node: internal time charged to the nearest caller in a package or in Lock's code.
const ownedByModule = new Map<string, number>();
const isInternal = (module: string) => module === 'node:internal' || module === '(native/vm)';
const inclusiveByLockFn = new Map<string, number>();
const inclusiveByModule = new Map<string, number>();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0 || node.callFrame.functionName === '(idle)') continue;
  add(selfByFn, fnName(node), us);
  add(selfByModule, moduleOf(node.callFrame.url), us);
  let owner = moduleOf(node.callFrame.url);
  for (let id = parent.get(node.id); isInternal(owner) && id !== undefined; id = parent.get(id))
    owner = moduleOf(byId.get(id)!.callFrame.url);
  add(ownedByModule, isInternal(owner) ? `${owner} (no caller)` : owner, us);
  // Inclusive: once per distinct Lock function / module on the stack.
  const seenFns = new Set<string>();
  const seenModules = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const frame = byId.get(id)!;
    const module = moduleOf(frame.callFrame.url);
    if (!seenModules.has(module)) {
      seenModules.add(module);
      add(inclusiveByModule, module, us);
    }
    if (module.startsWith('src/')) {
      const name = fnName(frame);
      if (!seenFns.has(name)) {
        seenFns.add(name);
        add(inclusiveByLockFn, name, us);
      }
    }
  }
}

const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
};
console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled, busy ${(busy / 1e6).toFixed(1)} s (percentages of busy time)`,
);
print('self time by module', selfByModule);
print('self time by module, native and node: time charged to its nearest caller', ownedByModule);
print('self time by function', selfByFn);
print('inclusive time by module', inclusiveByModule);
print('inclusive time by Lock function', inclusiveByLockFn);
