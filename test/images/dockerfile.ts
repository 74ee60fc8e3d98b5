// A small Dockerfile reader for the static checks: instructions with their line, continuation
// lines joined, comments dropped, grouped by build stage.
import { readFileSync } from 'node:fs';

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Instructions before the first FROM (global ARGs). */
  preamble: Instruction[];
  stages: Stage[];
}

export function readDockerfile(path: string): Dockerfile {
  const lines = readFileSync(path, 'utf8').split('\n');
  const instructions: Instruction[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = i;
    let text = lines[i]!;
    if (/^\s*(#|$)/.test(text)) continue;
    while (text.endsWith('\\') && i + 1 < lines.length) {
      text = text.slice(0, -1).trimEnd();
      i++;
      if (!/^\s*#/.test(lines[i]!)) text += ` ${lines[i]!.trim()}`;
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(text);
    if (!match) throw new Error(`${path}:${first + 1}: not an instruction: ${text}`);
    instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: first + 1 });
  }
  const file: Dockerfile = { preamble: [], stages: [] };
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [from, as, name] = instruction.args.split(/\s+/);
      file.stages.push({
        from: from!,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
    } else if (file.stages.length === 0) file.preamble.push(instruction);
    else file.stages.at(-1)!.instructions.push(instruction);
  }
  return file;
}

/** COPY/ADD sources and destination, options (--from, --chown) set apart. */
export function copyParts(args: string): {
  options: Record<string, string>;
  sources: string[];
  dest: string;
} {
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const options: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [key, value = ''] = words.shift()!.slice(2).split('=');
    options[key!] = value;
  }
  const dest = words.pop()!;
  return { options, sources: words, dest };
}

/** The last value of an instruction in a stage (USER, WORKDIR, ENTRYPOINT…). */
export function last(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1);
}

export function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}
