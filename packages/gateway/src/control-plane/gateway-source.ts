// Where a running gateway's config and control-plane data come from, in each mode, behind one
// interface the master uses at start, on every poll and on `reload`:
//   edge         source YAML + Edge (bootstrap, products, keys); the cache file when Edge is down at start
//   local        source YAML + the `-a -v -b -t` proxy; no network (EDGEMICRO_LOCAL=1)
//   local-proxy  source YAML + that proxy + Edge products and keys (EDGEMICRO_LOCAL_PROXY=1)
//   standalone   source YAML + the standalone file (proxies, products, apps, keys); no Apigee at all
// `compile()` is synchronous (the cluster supervisor calls it on reload) and uses the latest data.
import { existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { GatehouseConfig } from '@gatehouse/core';
import { replaceEnvTags } from '../config/env-tags.js';
import { EdgemicroConfigError } from '../config/errors.js';
import { cacheConfigPath, sourceConfigPath } from '../config/locations.js';
import { translate } from '../config/translate.js';
import { validateEdgemicroConfig, type EdgemicroSettings } from '../config/validate.js';
import { readYamlFile, parseYaml } from '../config/yaml-file.js';
import { AVAILABLE_BUILTINS, EDGEMICRO_BUILTIN_NAMES } from '../runtime/builtins.js';
import { ERROR_RENDERER } from '../runtime/build-engine.js';
import type { LogFileSpec } from '../runtime/rotating-log.js';
import { RUNTIME_KEY, type GatewayMode, type GatewayRuntimeData } from '../runtime/runtime-data.js';
import { readCacheFile, writeCacheFile } from './cache-file.js';
import { fetchEdgeData, redact } from './edge-client.js';
import { localProxy, type LocalProxyArgs } from './local-proxy.js';
import { decorate, filterProducts, filterProxies } from './map-edge.js';
import { readStandaloneFile } from './standalone.js';
import type { EdgeData, EdgeProxy, StandaloneData } from './types.js';

export interface GatewaySourceOptions {
  readonly mode: GatewayMode;
  readonly org: string;
  readonly env: string;
  readonly key?: string;
  readonly secret?: string;
  readonly configDir: string;
  /** EDGEMICRO_CONFIG_URL / `-u`: the source YAML is downloaded from here before start and each poll. */
  readonly configUrl?: string;
  readonly port?: number;
  /** `-d` / EDGEMICRO_PLUGIN_DIR. */
  readonly pluginDir?: string;
  readonly local?: LocalProxyArgs;
  readonly standaloneFile?: string;
  /** Relative file paths in the config (ssl) resolve here. */
  readonly cwd: string;
  readonly environment?: NodeJS.ProcessEnv;
  /** Where warnings go (env tags without a variable, Edge unreachable…). Never given secrets. */
  readonly warn?: (message: string, fields?: Record<string, unknown>) => void;
}

interface Loaded {
  raw: Record<string, unknown>;
  merged: Record<string, unknown>;
  settings: EdgemicroSettings;
}

export class GatewaySource {
  private loaded!: Loaded;
  private data!: EdgeData | StandaloneData;
  private readonly builtins: readonly string[] = AVAILABLE_BUILTINS;
  private readonly uid = randomUUID();
  /** `logging.dir` files the workers append to (the CLI sets them once the config is read; absent: stdout). */
  logFiles: LogFileSpec | undefined;
  /** Where the data of the running config came from. */
  origin: 'edge' | 'cache' | 'local' | 'standalone' = 'local';

  private constructor(readonly options: GatewaySourceOptions) {}

  get sourcePath(): string {
    return sourceConfigPath(this.options.configDir, this.options.org, this.options.env);
  }

  get cachePath(): string {
    return cacheConfigPath(this.options.configDir, this.options.org, this.options.env);
  }

  get settings(): EdgemicroSettings {
    return this.loaded.settings;
  }

  get edgeData(): EdgeData | StandaloneData {
    return this.data;
  }

  /** Load the source config and the control-plane data; throws one clear error if it cannot start. */
  static async open(options: GatewaySourceOptions): Promise<GatewaySource> {
    const s = new GatewaySource(options);
    if (options.configUrl) await s.downloadSource();
    s.loaded = s.readSource();
    s.data = await s.loadData(true);
    s.compile(); // a config core refuses stops the start here, with its message
    return s;
  }

  /** Re-read the source and the control plane. Resolves true when anything changed. */
  async refresh(): Promise<boolean> {
    if (this.options.configUrl) await this.downloadSource();
    const loaded = this.readSource();
    const data = await this.loadData(false);
    const changed =
      JSON.stringify(loaded.merged) !== JSON.stringify(this.loaded.merged) ||
      JSON.stringify(data) !== JSON.stringify(this.data);
    this.loaded = loaded;
    this.data = data;
    return changed;
  }

  /** The native config for the current data (synchronous: the supervisor calls it on reload). */
  compile(): GatehouseConfig {
    const { settings, merged } = this.loaded;
    const sequence = this.sequence(settings);
    const pluginDir =
      this.options.pluginDir ??
      this.options.environment?.EDGEMICRO_PLUGIN_DIR ??
      settings.edgemicro.plugins.dir;
    const runtime: GatewayRuntimeData = {
      mode: this.options.mode,
      org: this.options.org,
      env: this.options.env,
      ...(this.options.key !== undefined ? { key: this.options.key } : {}),
      ...(this.options.secret !== undefined ? { secret: this.options.secret } : {}),
      config: merged,
      edge: this.data,
      sequence,
      excludeUrls: settings.edgemicro.plugins.excludeUrls,
      ...(pluginDir ? { pluginDir } : {}),
      ...(this.logFiles ? { logFiles: this.logFiles } : {}),
    };
    return translate(settings, this.data.proxies, {
      ...(this.options.port !== undefined ? { port: this.options.port } : {}),
      baseDir: this.options.cwd,
      plugins: sequence,
      uid: this.uid,
      errorRenderer: ERROR_RENDERER,
      pluginConfig: { [RUNTIME_KEY]: runtime },
      ...(pluginDir ? { pluginDir } : {}),
    });
  }

  /** The plugin sequence as edgemicro runs it: analytics first when Edge can take its records
   *  (local and standalone modes have no Edge: the analytics plugin passes through there). */
  private sequence(settings: EdgemicroSettings): string[] {
    const seq = [...settings.edgemicro.plugins.sequence];
    const analyticsRuns =
      settings.edgemicro.enableAnalytics &&
      (this.options.mode === 'edge' || this.options.mode === 'local-proxy') &&
      this.builtins.includes('analytics');
    // edgemicro runs analytics first whatever the listed order (it times the whole exchange).
    if (analyticsRuns) {
      const at = seq.indexOf('analytics');
      if (at >= 0) seq.splice(at, 1);
      seq.unshift('analytics');
    }
    const missing = seq.filter((n) => EDGEMICRO_BUILTIN_NAMES.includes(n) && !this.builtins.includes(n));
    const pluginDir =
      this.options.pluginDir ??
      this.options.environment?.EDGEMICRO_PLUGIN_DIR ??
      settings.edgemicro.plugins.dir;
    const notCustom = missing.filter((n) => !pluginDir || !existsSync(`${pluginDir}/${n}/package.json`));
    if (notCustom.length)
      throw new EdgemicroConfigError(
        notCustom.map((n) => ({
          key: 'config.edgemicro.plugins.sequence',
          message: `built-in plugin "${n}" is not available in this build (and no plugin directory has it); remove it from the sequence or provide it in plugins.dir`,
          file: this.sourcePath,
        })),
      );
    return seq;
  }

  private readSource(): Loaded {
    const doc = readYamlFile(this.sourcePath);
    const tags = replaceEnvTags(doc.value, this.options.environment ?? process.env);
    for (const name of tags.missing)
      this.options.warn?.(`No env variable ${name} available to replace in config`);
    if (tags.invalid.length)
      throw new EdgemicroConfigError(
        tags.invalid.map((p) => ({ key: p.key, message: p.message, file: doc.file })),
      );
    const merged = tags.value as Record<string, unknown>;
    const settings = validateEdgemicroConfig(merged, doc);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(merged)) if (k !== 'edge_config' && k !== 'agent') out[k] = v;
    return { raw: doc.value, merged: out, settings };
  }

  private async downloadSource(): Promise<void> {
    const url = this.options.configUrl!;
    const protocol = URL.canParse(url) ? new URL(url).protocol : '';
    // As edgemicro: only http(s), and a download that fails stops the start (exit 1).
    if (protocol !== 'http:' && protocol !== 'https:')
      throw new Error(`config URL protocol not supported: ${JSON.stringify(protocol || url.split(':')[0])}`);
    let text: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      text = await boundedText(res, MAX_CONFIG_BYTES);
    } catch (err) {
      throw new Error(`cannot download the config from ${redact(url)}: ${(err as Error).message}`);
    }
    parseYaml(text, redact(url)); // refuse what does not parse before replacing the file
    // As edgemicro, the config directory is made when missing.
    mkdirSync(this.options.configDir, { recursive: true });
    const tmp = `${this.sourcePath}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, this.sourcePath);
  }

  /** EDGEMICRO_DECORATOR: the one kept proxy serves `/`; set where it cannot apply, it says why. */
  private decorated(proxies: EdgeProxy[]): EdgeProxy[] {
    const flag = (this.options.environment ?? process.env).EDGEMICRO_DECORATOR;
    const names = this.loaded.settings.edgemicro.proxies;
    const out = decorate(proxies, names, flag);
    if (flag && !out.applied)
      this.options.warn?.(
        `EDGEMICRO_DECORATOR is set but has no effect: it needs edgemicro.proxies to keep exactly one proxy (${names ? `${proxies.length} kept` : 'edgemicro.proxies is not set'})`,
      );
    return out.proxies;
  }

  private async loadData(atStart: boolean): Promise<EdgeData | StandaloneData> {
    const { settings } = this.loaded;
    const em = settings.edgemicro;
    switch (this.options.mode) {
      case 'standalone': {
        this.origin = 'standalone';
        const data = readStandaloneFile(this.options.standaloneFile!, em.max_connections);
        return {
          ...data,
          proxies: this.decorated(
            filterProxies([...data.proxies], em.proxies, settings.edgeConfig.proxyPattern),
          ),
        };
      }
      case 'local':
        this.origin = 'local';
        return {
          proxies: [localProxy(this.options.local ?? {}, em.max_connections)],
          products: [],
          keys: {},
        };
      case 'edge':
      case 'local-proxy': {
        const creds = { key: this.options.key ?? '', secret: this.options.secret ?? '' };
        try {
          const fixed =
            this.options.mode === 'local-proxy'
              ? [localProxy(this.options.local ?? {}, em.max_connections)]
              : undefined;
          const data = await fetchEdgeData(settings.edgeConfig, creds, {
            maxConnections: em.max_connections,
            ...(fixed ? { proxies: fixed } : {}),
          });
          const proxies = this.decorated(
            filterProxies([...data.proxies], em.proxies, settings.edgeConfig.proxyPattern),
          );
          const products = em.proxies ? filterProducts([...data.products], proxies) : data.products;
          const out = { ...data, proxies, products };
          writeCacheFile(this.cachePath, this.loaded.raw, out);
          this.origin = 'edge';
          return out;
        } catch (err) {
          if (!atStart) throw err;
          if (!existsSync(this.cachePath))
            throw new Error(`${(err as Error).message}; and no cache file ${this.cachePath} to start from`);
          this.options.warn?.('Edge is unreachable; starting from the cache file', {
            cache: this.cachePath,
            reason: (err as Error).message,
          });
          this.origin = 'cache';
          return readCacheFile(this.cachePath);
        }
      }
    }
  }
}

/** Bound on a downloaded config file (a config is kilobytes; a wrong URL may stream forever). */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

async function boundedText(res: Response, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > max) throw new Error(`larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
