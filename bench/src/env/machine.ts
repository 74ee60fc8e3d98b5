// What the report says about the machine and the versions measured.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  pinned: boolean;
  versions: Record<string, string>;
}

function cmd(file: string, args: string[], pattern: RegExp): string {
  try {
    const out = execFileSync(file, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 5000,
    });
    return pattern.exec(out)?.[1] ?? out.trim().split('\n')[0]!;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    const text = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    return pattern.exec(text)?.[1] ?? 'not found';
  }
}

function stderrOf(file: string, args: string[], pattern: RegExp): string {
  try {
    const out = execFileSync('bash', ['-c', `${file} ${args.join(' ')} 2>&1; true`], {
      encoding: 'utf8',
      timeout: 5000,
    });
    return pattern.exec(out)?.[1] ?? 'unknown';
  } catch {
    return 'not found';
  }
}

function pkgVersion(path: string): string {
  try {
    return existsSync(path)
      ? (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version
      : 'not installed';
  } catch {
    return 'unknown';
  }
}

export function machineInfo(repoRoot: string): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  let os = 'Linux';
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    /* keep default */
  }
  const cores = availableParallelism();
  return {
    cores,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    os,
    pinned: cores >= 2,
    versions: {
      node: process.version,
      nginx: stderrOf('nginx', ['-v'], /nginx\/(\S+)/),
      haproxy: cmd('haproxy', ['-v'], /version (\S+)/),
      wrk: stderrOf('wrk', ['-v'], /wrk (\S+)/),
      h2load: cmd('h2load', ['--version'], /nghttp2\/(\S+)/),
      openssl: cmd('openssl', ['version'], /OpenSSL (\S+)/),
      'http-proxy-3': pkgVersion(join(repoRoot, 'bench/node_modules/http-proxy-3/package.json')),
      'microgateway-core': pkgVersion(
        join(repoRoot, 'bench/.peers/node_modules/microgateway-core/package.json'),
      ),
      gatehouse: pkgVersion(join(repoRoot, 'packages/core/package.json')),
    },
  };
}
