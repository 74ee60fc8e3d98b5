// edgemicro's env tags (reference §1.2): in any string of the YAML, `<E>NAME</E>` becomes the value
// of the variable, `<E><n>NAME</n></E>` a number (digits only), `<E><b>NAME</b></E>` a boolean
// (`true`/`false` only). An unset variable leaves the tag in place and is reported; a value of the
// wrong kind is an error naming the key.

export interface EnvTagResult {
  readonly value: unknown;
  /** Variables named by tags but not set (edgemicro logs them and keeps the tag). */
  readonly missing: readonly string[];
  /** Tags whose value has the wrong kind (`<n>` not digits, `<b>` not true/false), with their key. */
  readonly invalid: readonly { key: string; message: string }[];
}

const WHOLE = /^<E>(?:<(n|b)>([A-Za-z_][A-Za-z0-9_]*)<\/\1>|([A-Za-z_][A-Za-z0-9_]*))<\/E>$/;
const INLINE = /<E>([A-Za-z_][A-Za-z0-9_]*)<\/E>/g;

export function replaceEnvTags(input: unknown, env: NodeJS.ProcessEnv = process.env): EnvTagResult {
  const missing = new Set<string>();
  const invalid: { key: string; message: string }[] = [];
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'string') return replaceString(v, key);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${key}[${i}]`));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = walk(x, `${key}.${k}`);
      return out;
    }
    return v;
  };
  const replaceString = (s: string, key: string): unknown => {
    if (!s.includes('<E>')) return s;
    const whole = WHOLE.exec(s.trim());
    if (whole) {
      const kind = whole[1];
      const name = (whole[2] ?? whole[3])!;
      const value = env[name];
      if (value === undefined) {
        missing.add(name);
        return s;
      }
      if (kind === 'n') {
        if (!/^\d+$/.test(value)) {
          invalid.push({ key, message: `env variable ${name} is not a number` });
          return s;
        }
        return Number(value);
      }
      if (kind === 'b') {
        if (value !== 'true' && value !== 'false') {
          invalid.push({ key, message: `env variable ${name} is not true or false` });
          return s;
        }
        return value === 'true';
      }
      return value;
    }
    return s.replace(INLINE, (tag, name: string) => {
      const value = env[name];
      if (value === undefined) {
        missing.add(name);
        return tag;
      }
      return value;
    });
  };
  return { value: walk(input, 'config'), missing: [...missing], invalid };
}
