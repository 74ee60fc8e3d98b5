// The secret sweep over every log the suite produced (issue 11: "a test greps every log produced by
// the suite"). It looks for the canary secrets the tests send (test/helpers/canary-secrets.json) and
// for secret shapes whatever their value: private keys, bearer tokens, credential fields and query
// parameters that were not redacted. Findings name the file, the line and the rule — never the value.
//   node --import tsx test/helpers/log-sweep.ts <dir>
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Finding {
  file: string;
  line: number;
  rule: string;
}

const CANARIES: Record<string, string> = JSON.parse(
  readFileSync(join(import.meta.dirname, 'canary-secrets.json'), 'utf8'),
) as Record<string, string>;

const SHAPES: Array<[string, RegExp]> = [
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['bearer token', /\bBearer\s+[A-Za-z0-9._~+/=-]{6,}/],
  [
    'credential field',
    /"(?:authorization|proxy-authorization|x-api-key|cookie|passphrase|password|client_secret|apikey|api_key)":"(?!\[redacted\])[^"]+"/i,
  ],
  [
    'credential in a query',
    /[?&](?:(?:x[_-])?api[_-]?key|apikey|access_token|refresh_token|id_token|client_secret|password|sig|signature)=(?!\*\*\*)[^&"\s]+/i,
  ],
  ['credentials in a URL', /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@"]+:[^/\s@"]+@/i],
];

/** Sweep every file in `dir`; returns what was found and how many lines were read. */
export function sweepLogs(dir: string): { findings: Finding[]; lines: number; files: number } {
  const findings: Finding[] = [];
  let lines = 0;
  const names = readdirSync(dir).filter((n) => n.endsWith('.log'));
  for (const name of names) {
    const text = readFileSync(join(dir, name), 'utf8');
    text.split('\n').forEach((line, i) => {
      if (!line) return;
      lines++;
      for (const [label, value] of Object.entries(CANARIES))
        if (line.includes(value)) findings.push({ file: name, line: i + 1, rule: `canary ${label}` });
      for (const [rule, re] of SHAPES) if (re.test(line)) findings.push({ file: name, line: i + 1, rule });
    });
  }
  return { findings, lines, files: names.length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: log-sweep.ts <dir>');
    process.exit(2);
  }
  const { findings, lines, files } = sweepLogs(dir);
  for (const f of findings.slice(0, 50)) console.error(`secret in a log: ${f.file}:${f.line} (${f.rule})`);
  console.log(
    `log sweep: ${lines} lines in ${files} files, ${findings.length ? `${findings.length} secrets found` : 'no secret found'}`,
  );
  process.exit(findings.length ? 1 : 0);
}
