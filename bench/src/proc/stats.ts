// CPU time and peak memory of a process tree, read from /proc. nginx and haproxy do their work in
// child processes, so every figure is summed over the tree rooted at the PID we started; a system made
// of several processes (the layers of a chain) passes all its roots and gets the sum.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* Linux default */
}

interface StatLine {
  ppid: number;
  ticks: number;
}

function readStat(pid: number): StatLine | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** One root PID, or several (a system of several processes). */
export type Roots = number | readonly number[];

/** The PIDs of the roots and all their live descendants, each once. */
export function processTree(roots: Roots): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(name));
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const seen = new Set<number>();
  const queue = typeof roots === 'number' ? [roots] : [...roots];
  while (queue.length > 0 && out.length < 10000) {
    const pid = queue.shift()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** utime + stime of the whole tree, in seconds. */
export function cpuSeconds(roots: Roots): number {
  let ticks = 0;
  for (const pid of processTree(roots)) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / clkTck;
}

function statusField(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Peak resident set (VmHWM) summed over the tree, in bytes. */
export function peakRss(roots: Roots): number {
  return processTree(roots).reduce((sum, pid) => sum + statusField(pid, 'VmHWM'), 0);
}

/** Current resident set (VmRSS) summed over the tree, in bytes. */
export function currentRss(roots: Roots): number {
  return processTree(roots).reduce((sum, pid) => sum + statusField(pid, 'VmRSS'), 0);
}
