// Typed reads of an edgemicro YAML section: a wrong type is a config error naming the key, never a
// silent default (a string "false" must not turn a security switch on).

export type Section = Readonly<Record<string, unknown>>;

export class PluginConfigError extends Error {
  constructor(plugin: string, key: string, expected: string) {
    super(`config.${plugin}.${key} must be ${expected}`);
    this.name = 'PluginConfigError';
  }
}

export function bool(section: Section, plugin: string, key: string, fallback: boolean): boolean {
  const v = section[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new PluginConfigError(plugin, key, 'a boolean');
  return v;
}

export function str(section: Section, plugin: string, key: string, fallback: string): string;
export function str(section: Section, plugin: string, key: string): string | undefined;
export function str(section: Section, plugin: string, key: string, fallback?: string): string | undefined {
  const v = section[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new PluginConfigError(plugin, key, 'a string');
  return v;
}

export function num(section: Section, plugin: string, key: string, fallback: number, min = 0): number {
  const v = section[key];
  if (v === undefined || v === null) return fallback;
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min)
    throw new PluginConfigError(plugin, key, `a number ≥ ${min}`);
  return n;
}

export function strings(section: Section, plugin: string, key: string): readonly string[] {
  const v = section[key];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new PluginConfigError(plugin, key, 'a list of strings');
  return v as string[];
}

/** A plugin's section: what init received (core's pluginConfig) over the merged config's section. */
export function sectionOf(
  merged: Readonly<Record<string, unknown>>,
  name: string,
  fromInit: Readonly<Record<string, unknown>>,
): Section {
  const base = merged[name];
  const out: Record<string, unknown> = base && typeof base === 'object' ? { ...(base as object) } : {};
  for (const [k, v] of Object.entries(fromInit)) if (k !== 'emgConfigs') out[k] = v;
  return out;
}
