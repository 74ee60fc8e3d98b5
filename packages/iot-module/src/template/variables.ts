/**
 * Where a `${NAME}` gets its value. Order, highest first: reserved value (the module owns it, the
 * environment cannot change it) → environment (an empty string stays empty) → default → `0`.
 * A value may point at another variable, one level deep (see `resolveOnce`).
 */

/** Values owned by the module; `TOKEN_VALIDITY_MINUTES` is half the 60-minute token lifetime. */
const RESERVED_VALUES: Readonly<Record<string, string>> = Object.freeze({
  TOKEN_VALIDITY_MINUTES: '30',
  TOKEN_SERVER_PORT: '6001',
});

/**
 * Built-in defaults. `NGINX_DEFAULT_PORT` is 443 as the module README promises (the Rust code
 * silently moved to 8000 in 2021; callers who want 8000 pass it in `defaults`).
 * `IOTEDGE_PARENTAPIPROXYNAME` keeps its 2020 default, the module id, for old twin configs.
 */
const DEFAULT_VALUES: Readonly<Record<string, string>> = Object.freeze({
  NGINX_DEFAULT_PORT: '443',
  NGINX_DEFAULT_TLS: 'TLSv1.2',
  IOTEDGE_PARENTAPIPROXYNAME: '${IOTEDGE_MODULEID}',
});

/** Env names of the legacy allow-list: the one the code read, then the one Microsoft Learn documents. */
const LEGACY_VARIABLE_LIST_NAMES: readonly string[] = Object.freeze([
  'NGINX_CONFIG_ENV_VAR_LIST',
  'PROXY_CONFIG_ENV_VAR_LIST',
]);

export type VariableSource = 'reserved' | 'env' | 'default' | 'fallback';

export interface ResolvedVariable {
  readonly value: string;
  /** Where the (first-level) value came from. */
  readonly source: VariableSource;
  /** Set when the value was taken from another variable through one level of indirection. */
  readonly via: string | undefined;
  /** A remark worth showing to the operator (ignored env value, indirection stopped after one level). */
  readonly note: string | undefined;
}

export interface VariableOptions {
  /** The environment, usually `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Merged over `RESERVED_VALUES`; a key set to undefined removes a reserved value. */
  readonly reserved?: Readonly<Record<string, string | undefined>>;
  /** Merged over `DEFAULT_VALUES`; a key set to undefined removes a default. */
  readonly defaults?: Readonly<Record<string, string | undefined>>;
  /**
   * Legacy allow-list (2020-09 → 2021-05 behaviour): only these names are substituted. When
   * omitted it is read from `NGINX_CONFIG_ENV_VAR_LIST`, else `PROXY_CONFIG_ENV_VAR_LIST`
   * (comma-separated); `null` turns legacy mode off whatever the environment says.
   */
  readonly variableList?: readonly string[] | null;
}

/** Values that transform what they resolve to; the parent proxy name must be a DNS label (RFC 1035). */
const TRANSFORMS: ReadonlyMap<string, (value: string) => string> = new Map([
  ['IOTEDGE_PARENTAPIPROXYNAME', toDnsLabel],
]);

const REFERENCE_VALUE = /^\$\{([^\s${}]+)\}$/;

export class VariableResolver {
  /** The legacy allow-list when legacy mode is on, else undefined. */
  readonly legacyList: ReadonlySet<string> | undefined;
  /** The env name the legacy list was read from, when it came from the environment. */
  readonly legacyListSource: string | undefined;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly reserved: ReadonlyMap<string, string>;
  private readonly defaults: ReadonlyMap<string, string>;

  constructor(options: VariableOptions) {
    this.env = options.env;
    this.reserved = merge(RESERVED_VALUES, options.reserved);
    this.defaults = merge(DEFAULT_VALUES, options.defaults);
    if (options.variableList === null) {
      this.legacyList = undefined;
      this.legacyListSource = undefined;
    } else if (options.variableList !== undefined) {
      this.legacyList = new Set(options.variableList);
      this.legacyListSource = undefined;
    } else {
      const found = LEGACY_VARIABLE_LIST_NAMES.find((n) => (this.fromEnv(n) ?? '').trim() !== '');
      this.legacyListSource = found;
      this.legacyList = found === undefined ? undefined : parseVariableList(this.fromEnv(found) ?? '');
    }
  }

  /**
   * The value of `${name}`, or undefined when legacy mode leaves the reference as written.
   * Reserved and defaulted names are always substituted, even in legacy mode: the module owns
   * them, and leaving `${NGINX_DEFAULT_TLS}` literal would break every current template.
   */
  resolve(name: string): ResolvedVariable | undefined {
    const reserved = this.reserved.get(name);
    if (reserved !== undefined) {
      const ignored = this.fromEnv(name) !== undefined;
      return {
        value: reserved,
        source: 'reserved',
        via: undefined,
        note: ignored ? `${name} is reserved; its environment value is ignored` : undefined,
      };
    }
    if (this.legacyList !== undefined && !this.legacyList.has(name) && !this.defaults.has(name)) {
      return undefined;
    }
    const first = this.direct(name);
    if (first.source === 'fallback') return { ...first, via: undefined, note: undefined };
    const resolved = this.resolveOnce(name, first.value);
    // A transform only makes sense on a real value, not on the "0" of an unset indirection target.
    const transform = resolved.fellBack ? undefined : TRANSFORMS.get(name);
    return {
      value: transform === undefined ? resolved.value : transform(resolved.value),
      source: first.source,
      via: resolved.via,
      note: resolved.note,
    };
  }

  /**
   * One level of indirection. `${OTHER}` (the README's syntax) always; in legacy mode also a bare
   * name of a variable that is set (the 2020 syntax). The target's own value is used as is, so
   * chains and loops stop after one step.
   */
  private resolveOnce(
    name: string,
    value: string,
  ): { value: string; via: string | undefined; note: string | undefined; fellBack: boolean } {
    const match = REFERENCE_VALUE.exec(value);
    let target: string | undefined = match?.[1];
    if (target === undefined && this.legacyList !== undefined && value !== name && this.isSet(value)) {
      target = value;
    }
    if (target === undefined) return { value, via: undefined, note: undefined, fellBack: false };
    const next = target === name ? { value: '0', source: 'fallback' as const } : this.direct(target);
    const chained = REFERENCE_VALUE.test(next.value);
    return {
      value: next.value,
      via: target,
      fellBack: next.source === 'fallback',
      note: chained
        ? `${name} refers to ${target}, which refers to another variable; only one level of indirection is followed`
        : undefined,
    };
  }

  /** The first-level value: reserved → env → default → "0". */
  private direct(name: string): { value: string; source: VariableSource } {
    const reserved = this.reserved.get(name);
    if (reserved !== undefined) return { value: reserved, source: 'reserved' };
    const fromEnv = this.fromEnv(name);
    if (fromEnv !== undefined) return { value: fromEnv, source: 'env' };
    const fallback = this.defaults.get(name);
    if (fallback !== undefined) return { value: fallback, source: 'default' };
    return { value: '0', source: 'fallback' };
  }

  private isSet(name: string): boolean {
    return this.reserved.has(name) || this.fromEnv(name) !== undefined;
  }

  /** Own string properties only: a plain-object env must not leak `constructor` or `__proto__`. */
  private fromEnv(name: string): string | undefined {
    if (!Object.prototype.hasOwnProperty.call(this.env, name)) return undefined;
    const value = this.env[name];
    return typeof value === 'string' ? value : undefined;
  }
}

/** Splits a comma-separated variable list, ignoring blanks and surrounding spaces. */
function parseVariableList(list: string): ReadonlySet<string> {
  const names = new Set<string>();
  for (const part of list.split(',')) {
    const name = part.trim();
    if (name !== '') names.add(name);
  }
  return names;
}

/**
 * An RFC 1035 label: drop leading non-letters and trailing non-alphanumerics, lower-case, keep
 * `[a-z0-9-]`, at most 63 characters (so `iotedge_api_proxy` becomes `iotedgeapiproxy`).
 */
function toDnsLabel(name: string): string {
  let start = 0;
  let end = name.length;
  while (start < end && !/[A-Za-z]/.test(name[start]!)) start++;
  while (end > start && !/[A-Za-z0-9]/.test(name[end - 1]!)) end--;
  return name
    .slice(start, end)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 63);
}

function merge(
  base: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string | undefined>> | undefined,
): Map<string, string> {
  const map = new Map(Object.entries(base));
  if (overrides !== undefined) {
    for (const [key, value] of Object.entries(overrides)) {
      if (typeof value === 'string') map.set(key, value);
      else map.delete(key);
    }
  }
  return map;
}
