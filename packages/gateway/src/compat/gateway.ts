// The microgateway-core-shaped gateway: `factory(config)` → `{ start(cb), stop(cb), addPlugin(name, init) }`.
// The config object is the merged edgemicro config microgateway-core takes (edgemicro, proxies,
// headers, targets, plugin sections); it is checked and translated exactly as the edgemicro CLI's
// config is, and runs on core's engine. Plugins added here run on every proxy, in the order added,
// with edgemicro's plugin contract (core's pipeline).
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  createGatehouse,
  createPluginLogger,
  createPluginPipeline,
  createPluginStats,
  initPlugin,
  pluginConfig,
  type EdgemicroHandlers,
  type EdgemicroPluginModule,
  type Gatehouse,
  type LoadedPlugin,
  type PluginStats,
} from '@gatehouse/core';
import { EdgemicroConfigError, type ConfigProblem } from '../config/errors.js';
import { translate } from '../config/translate.js';
import type { EdgeProxy } from '../control-plane/types.js';
import { validateEdgemicroConfig, type EdgemicroSettings } from '../config/validate.js';
import { ERROR_RENDERER } from '../runtime/build-engine.js';
import { renderEdgemicroError } from '../runtime/error-renderer.js';
import { skipOnExcludedUrls } from '../runtime/excluded-urls.js';
import { wildcardGates } from '../runtime/wildcard-base-path.js';
import { baseLogger, Logging } from './logging.js';
import { proxiesFromConfig } from './proxies.js';

/** The merged edgemicro config object, as microgateway-core takes it. */
export interface MicrogatewayConfig {
  edgemicro: Record<string, unknown>;
  proxies?: Array<Record<string, unknown>>;
  headers?: Record<string, boolean>;
  targets?: Array<Record<string, unknown>>;
  keys?: { key?: string; secret?: string };
  /** Set by the factory (a per-gateway uuid), as microgateway-core does. */
  uid?: string;
  [section: string]: unknown;
}

/** A plugin's `init(config, logger, stats)` returning edgemicro handlers (or a module with `init`). */
export type PluginInit = EdgemicroPluginModule;

/** What `start`'s callback receives: the listening server's address and a way to close it. */
export interface MicrogatewayServer {
  readonly listening: boolean;
  address(): AddressInfo;
  close(cb?: (err?: Error) => void): void;
}

export type StartCallback = (err: Error | null, server?: MicrogatewayServer) => void;
export type StopCallback = (err?: Error) => void;

export class MicrogatewayCompatError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'MicrogatewayCompatError';
  }
}

/** How long `stop` lets in-flight requests finish before closing their connections. */
const STOP_DRAIN_MS = 10_000;

export class Microgateway {
  readonly config: MicrogatewayConfig;
  private readonly added: Array<{ name: string; handlers: EdgemicroHandlers }> = [];
  private readonly stats: PluginStats = createPluginStats();
  private engine: Gatehouse | undefined;
  private starting: Promise<Gatehouse> | undefined;

  constructor(config: MicrogatewayConfig) {
    if (typeof config !== 'object' || config === null)
      throw new MicrogatewayCompatError('options must contain config');
    this.config = config;
    // As microgateway-core: a fresh uid per gateway (x-request-id prefix), targets defaulted.
    config.uid = randomUUID();
    config.edgemicro ??= { plugins: {} };
    config.targets ??= [];
    Logging.init(config);
  }

  /** Add a plugin: `init(config[name], logger, stats)` runs now and must return its handlers. */
  addPlugin(name: string, init: PluginInit): void {
    if (typeof name !== 'string' || name === '') throw new MicrogatewayCompatError('plugin must have a name');
    const fn =
      typeof init === 'function'
        ? init
        : init && typeof init === 'object' && typeof init.init === 'function'
          ? init.init.bind(init)
          : undefined;
    if (!fn)
      throw new MicrogatewayCompatError(
        'plugin must be a function(config,logger,stats){return {onresponse:function(req,res,data,next){}}}',
      );
    if (this.added.some((p) => p.name === name))
      throw new MicrogatewayCompatError(`plugin "${name}" was already added`);
    const names = new Set([...this.sequence(), ...this.added.map((p) => p.name), name]);
    const handlers = fn(
      pluginConfig(name, this.config, names),
      createPluginLogger(baseLogger(), name),
      this.stats,
    );
    if (!handlers || typeof handlers !== 'object')
      throw new MicrogatewayCompatError(`ignoring invalid plugin handlers ${name}`);
    this.added.push({ name, handlers });
  }

  /** Listen on `edgemicro.port` (and `address`); `cb(err)` on a config or listen error, else `cb(null, server)`. */
  start(cb: StartCallback): void {
    if (this.engine || this.starting) {
      queueMicrotask(() => cb(new MicrogatewayCompatError('gateway already started')));
      return;
    }
    this.starting = this.build();
    this.starting.then(
      (engine) => {
        this.engine = engine;
        this.starting = undefined;
        cb(null, this.server(engine));
      },
      (err: unknown) => {
        this.starting = undefined;
        Logging.getLogger().consoleLog(
          'error',
          { component: 'microgateway-core gateway' },
          'error starting edge micro',
        );
        cb(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  /** Stop listening and close connections once in-flight requests finish; `cb` when closed. */
  stop(cb?: StopCallback): void {
    const pending = this.starting;
    const closing = (pending ? pending.catch(() => undefined) : Promise.resolve(undefined)).then(() => {
      const engine = this.engine;
      this.engine = undefined;
      return engine?.close(STOP_DRAIN_MS);
    });
    closing.then(
      () => cb?.(),
      (err: unknown) => cb?.(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private sequence(): string[] {
    const plugins = (this.config.edgemicro as { plugins?: { sequence?: unknown } }).plugins;
    return Array.isArray(plugins?.sequence)
      ? plugins.sequence.filter((s): s is string => typeof s === 'string')
      : [];
  }

  private async build(): Promise<Gatehouse> {
    const added = this.added.map((p) => p.name);
    const doc = { file: '<config object>', text: '' };
    // Every problem of the object at once: the edgemicro sections, then the proxies.
    const problems: ConfigProblem[] = [];
    let settings: EdgemicroSettings | undefined;
    let proxies: EdgeProxy[] = [];
    try {
      settings = validateEdgemicroConfig(this.config as Record<string, unknown>, doc, {
        customPluginNames: added,
      });
    } catch (err) {
      if (!(err instanceof EdgemicroConfigError)) throw err;
      problems.push(...err.problems);
    }
    try {
      proxies = proxiesFromConfig(this.config.proxies, settings?.edgemicro.max_connections ?? 1000);
    } catch (err) {
      if (!(err instanceof EdgemicroConfigError)) throw err;
      problems.push(...err.problems);
    }
    if (!settings || problems.length) throw new EdgemicroConfigError(problems);
    const native = translate(settings, proxies, {
      baseDir: process.cwd(),
      plugins: added,
      uid: this.config.uid!,
      errorRenderer: ERROR_RENDERER,
      // Plugins come from addPlugin, not from a directory.
      pluginDir: process.cwd(),
    });
    const logger = baseLogger();
    let pipeline: ReturnType<typeof createPluginPipeline> | undefined;
    const gates = await wildcardGates(proxies, (n) => createPluginLogger(logger, n), this.stats);
    if (added.length || gates.length) {
      const plugins: LoadedPlugin[] = [];
      for (const p of this.added)
        plugins.push(
          await initPlugin(p.name, () => p.handlers, {}, createPluginLogger(logger, p.name), this.stats),
        );
      pipeline = createPluginPipeline({
        plugins: [...gates, ...skipOnExcludedUrls(plugins, settings.edgemicro.plugins.excludeUrls)],
        logger,
      });
    }
    // edgemicro's error bodies through core's renderer slot (contracts §1).
    const engine = createGatehouse({
      config: native,
      baseDir: process.cwd(),
      logger,
      errorRenderers: { [ERROR_RENDERER]: renderEdgemicroError },
      ...(pipeline ? { pipeline } : {}),
    });
    try {
      await engine.start();
    } catch (err) {
      // A listen error (EADDRINUSE, EACCES): release what the engine holds before reporting it.
      await engine.close(0).catch(() => undefined);
      throw err;
    }
    return engine;
  }

  private server(engine: Gatehouse): MicrogatewayServer {
    const bound = engine.addresses()[0]!;
    return {
      get listening() {
        return !engine.isClosing;
      },
      address: () => ({
        address: bound.address,
        port: bound.port,
        family: bound.address.includes(':') ? 'IPv6' : 'IPv4',
      }),
      close: (cb) => this.stop(cb),
    };
  }
}
