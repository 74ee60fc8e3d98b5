// Read a native config file (JSON). Parse errors name the file, line and column.
import { readFileSync } from 'node:fs';
import { ConfigError } from './validate.js';

export function parseConfigText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const m = /position (\d+)/.exec(message);
    let where = '';
    if (m) {
      const pos = Number(m[1]);
      const before = text.slice(0, pos);
      const line = before.split('\n').length;
      const column = pos - before.lastIndexOf('\n');
      where = `:${line}:${column}`;
    }
    throw new ConfigError(
      [{ path: '', message: `JSON syntax error: ${message.replace(/ in JSON at position \d+.*$/, '')}` }],
      `${file}${where}`,
    );
  }
}

export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      [
        {
          path: '',
          message: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        },
      ],
      file,
    );
  }
  return parseConfigText(text, file);
}
