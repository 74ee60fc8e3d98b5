// Checks a value against the config's JSON Schema (schema.generated.ts, compiled from schema.ts at
// build time) and reports every problem with its key path and what was expected. The schema uses only
// the keywords below (the build script refuses any other), so this small interpreter stands in for a
// general validator, whose generated code would cost the engine about a megabyte at start-up.
import { alternatives, describe, isPlainObject, join } from './describe.js';

export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minItems?: number;
  enum?: string[];
  const?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  /** A union: the branch the value is meant as (by its type, its tag or its key) is checked. */
  anyOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  /** What a message says was expected, where the schema alone does not say it well. */
  expected?: string;
  /** Message when `pattern` fails (followed by the value found). */
  patternMessage?: string;
  minItemsMessage?: string;
}

export type Fail = (path: string, message: string) => void;

/** Reports through `fail` every way in which `value` does not match `root`. */
export function checkSchema(value: unknown, root: JsonSchema, fail: Fail): void {
  const patterns = new Map<string, RegExp>();
  const regex = (p: string): RegExp => {
    let r = patterns.get(p);
    if (!r) patterns.set(p, (r = new RegExp(p)));
    return r;
  };
  const resolve = (s: JsonSchema): JsonSchema =>
    s.$ref === undefined ? s : resolve(root.$defs![s.$ref.slice('#/$defs/'.length)]!);

  const check = (v: unknown, schema: JsonSchema, path: string): void => {
    const s = resolve(schema);
    if (s.anyOf) return checkUnion(v, s, s.anyOf.map(resolve), path);
    const expectedGot = () => fail(path, `expected ${expected(s)}, got ${describe(v, path)}`);
    switch (s.type) {
      case 'object': {
        if (!isPlainObject(v)) return expectedGot();
        const props = s.properties ?? {};
        if (s.additionalProperties === false && !s.patternProperties)
          for (const k of Object.keys(v))
            if (!(k in props))
              fail(join(path, k), `unknown key (expected one of: ${Object.keys(props).join(', ')})`);
        for (const [k, ps] of Object.entries(props)) {
          if (v[k] !== undefined) check(v[k], ps, join(path, k));
          else if (s.required?.includes(k))
            fail(join(path, k), `expected ${expected(resolve(ps))}, got nothing`);
        }
        for (const [p, ps] of Object.entries(s.patternProperties ?? {}))
          for (const k of Object.keys(v)) if (regex(p).test(k)) check(v[k], ps, join(path, k));
        return;
      }
      case 'array':
        if (!Array.isArray(v)) return expectedGot();
        if (s.minItems !== undefined && v.length < s.minItems)
          fail(path, s.minItemsMessage ?? `expected at least ${s.minItems} items`);
        if (s.items) for (let i = 0; i < v.length; i++) check(v[i], s.items, join(path, i));
        return;
      case 'string':
        if (
          typeof v !== 'string' ||
          v.length < (s.minLength ?? 0) ||
          (s.enum && !s.enum.includes(v)) ||
          (s.const !== undefined && v !== s.const)
        )
          return expectedGot();
        if (s.pattern !== undefined && !regex(s.pattern).test(v))
          fail(
            path,
            s.patternMessage
              ? `${s.patternMessage}: ${describe(v, path)}`
              : `expected ${expected(s)}, got ${describe(v, path)}`,
          );
        return;
      case 'integer':
        if (
          typeof v !== 'number' ||
          !Number.isInteger(v) ||
          v < (s.minimum ?? -Infinity) ||
          v > (s.maximum ?? Infinity)
        )
          expectedGot();
        return;
      case 'boolean':
        if (typeof v !== 'boolean') expectedGot();
        return;
      default:
        return; // {}: anything
    }
  };

  const checkUnion = (v: unknown, s: JsonSchema, branches: JsonSchema[], path: string): void => {
    const branch = branches.find((b) => meantAs(v, b));
    if (branch) return check(v, branch, path);
    const tags = branches.map(tagOf);
    const tag = tags[0];
    if (isPlainObject(v) && tag !== undefined && tags.every((t) => t === tag)) {
      const values = branches.map((b) => JSON.stringify(b.properties![tag]!.const));
      return fail(join(path, tag), `expected ${alternatives(values)}, got ${describe(v[tag])}`);
    }
    fail(path, `expected ${s.expected ?? 'a valid value'}, got ${describe(v, path)}`);
  };

  check(value, root, '');
}

/** The property whose constant value names a union's branch (`type: "proxy"`). */
function tagOf(s: JsonSchema): string | undefined {
  return Object.keys(s.properties ?? {}).find((k) => s.properties![k]!.const !== undefined);
}

/** Whether `v` is meant as this branch of a union: its tag, else its first required key (an object),
 *  else its type. */
function meantAs(v: unknown, b: JsonSchema): boolean {
  if (b.type !== 'object') return b.type === 'array' ? Array.isArray(v) : typeof v === jsType(b.type);
  if (!isPlainObject(v)) return false;
  const tag = tagOf(b);
  if (tag !== undefined) return v[tag] === b.properties![tag]!.const;
  const key = b.required?.[0];
  return key === undefined || key in v;
}

function jsType(t: JsonSchema['type']): string {
  return t === 'integer' ? 'number' : String(t);
}

function expected(s: JsonSchema): string {
  if (s.expected) return s.expected;
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return `one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  switch (s.type) {
    case 'integer':
      return `an integer from ${s.minimum ?? -Infinity} to ${s.maximum ?? Infinity}`;
    case 'string':
      return s.minLength ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    default:
      return 'a value';
  }
}
