// The running module (`iot-module run`): what the Rust supervisor and nginx do together, in one process.
// State — the template (packaged default, a file, or the twin's `proxy_config`), the server certificate
// and the trust bundle — becomes one native config (certificates inlined, so a change is a config
// change) that the engine validates and swaps in atomically: requests in flight keep the config they
// started with. A template that fails any step is rejected and reported; the last good one keeps
// serving. Nothing at start-up is fatal but a missing variable: an absent workload API or edgeHub is
// retried with back-off while /readyz says why it is not ready.
import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { createGatehouse, type Gatehouse, type GatehouseConfig } from '@gatehouse/core';
import { prepareProxyConfig } from '../config/prepare-proxy-config.js';
import { readDefaultTemplate } from '../config/default-template.js';
import { RenderedConfigError } from '../config/load-proxy-config.js';
import { TemplateError } from '../template/index.js';
import { NginxConfigError } from '../nginx/index.js';
import { Backoff, retry, sleep, type BackoffOptions } from './backoff.js';
import { createModuleLogger, type ModuleLogger } from './module-logger.js';
import { decodeProxyConfig, ProxyConfigValueError } from './proxy-config-value.js';
import { startTokenServer, TokenSource, type TokenServer } from './token-service.js';
import { TwinConnection } from './twin-connection.js';
import { WorkloadClient, type ServerCertificate } from './workload-client.js';
import { startModuleAdmin, type ModuleAdmin } from './module-admin.js';

export const REQUIRED_ENV = [
  'IOTEDGE_DEVICEID',
  'IOTEDGE_MODULEID',
  'IOTEDGE_MODULEGENERATIONID',
  'IOTEDGE_GATEWAYHOSTNAME',
  'IOTEDGE_IOTHUBHOSTNAME',
  'IOTEDGE_WORKLOADURI',
] as const;

export class ModuleEnvironmentError extends Error {
  constructor(readonly missing: string[]) {
    super(`missing environment variable${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
    this.name = 'ModuleEnvironmentError';
  }
}

export interface IotModuleOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Template used until the twin says otherwise (and when it says `null`). Default: the packaged one. */
  template?: { text: string; file: string };
  /** Directory the template's relative paths resolve against. Default `/app`. */
  confDir?: string;
  /** Address bound for wildcard `listen`s (layered instances on one host: 127.0.0.X). */
  listenAddress?: string;
  /** Name → address for upstream host names (`edgehub`, `registry`, …) instead of DNS. */
  hosts?: Record<string, string>;
  /** Body limit where `client_max_body_size` is unset. Default nginx's 1 MiB. */
  defaultMaxBodySize?: number;
  /** Token server port (TOKEN_SERVER_PORT). Default 6001; 0 = any free port. */
  tokenServerPort?: number;
  /** Health (/healthz, /readyz) and Prometheus /metrics. */
  admin?: { address?: string; port: number };
  /** Read `proxy_config` from the module twin. Default true. */
  twin?: boolean;
  /** Fraction of the server certificate's lifetime after which a new one is asked for. Default 0.8. */
  renewAtFraction?: number;
  /** How often the trust bundle is fetched again. Default 60 s. */
  trustBundlePollMs?: number;
  backoff?: BackoffOptions;
  /** SIGTERM/close: in-flight transfers get this long, then are cut. Default 30 s. */
  drainTimeoutMs?: number;
  logger?: ModuleLogger;
  moduleVersion?: string;
}

export interface ConfigState {
  /** Where the running template came from. */
  source: 'default' | 'file' | 'twin';
  /** sha256 of the rendered configuration now serving. */
  hash: string;
}

export interface LastError {
  message: string;
  /** Template line, when the error has one. */
  line: number | null;
  at: string;
}

export type ApplyResult = { ok: true; hash: string } | { ok: false; error: LastError };

interface Material {
  cert: ServerCertificate;
  trustBundle: string;
}

const MODULE_VERSION = '0.1.0';

export class IotModule {
  readonly logger: ModuleLogger;
  readonly workload: WorkloadClient;
  readonly tokens: TokenSource;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly confDir: string;
  private readonly defaultTemplate: { text: string; file: string; source: 'default' | 'file' };
  private template: { text: string; file: string; source: ConfigState['source'] };
  private material: Material | undefined;
  private engine: Gatehouse | undefined;
  private tokenServer: TokenServer | undefined;
  private admin: ModuleAdmin | undefined;
  private twin: TwinConnection | undefined;
  private readonly stop = new AbortController();
  private queue: Promise<unknown> = Promise.resolve();
  private running: ConfigState | undefined;
  private lastError: LastError | null = null;
  private notReady = 'starting';
  private renewTimer: NodeJS.Timeout | undefined;
  private lastDesired: unknown = undefined;
  readonly counters = { applied: 0, rejected: 0, certificateRotations: 0, trustBundleUpdates: 0 };

  constructor(private readonly options: IotModuleOptions) {
    const missing = REQUIRED_ENV.filter((n) => !options.env[n]);
    if (missing.length) throw new ModuleEnvironmentError(missing);
    this.env = options.env;
    this.logger = options.logger ?? createModuleLogger();
    this.confDir = options.confDir ?? '/app';
    this.defaultTemplate = options.template
      ? { ...options.template, source: 'file' }
      : { text: readDefaultTemplate(), file: 'nginx_default_config.conf', source: 'default' };
    this.template = this.defaultTemplate;
    const env = this.env as Record<(typeof REQUIRED_ENV)[number], string>;
    this.workload = new WorkloadClient({
      uri: env.IOTEDGE_WORKLOADURI,
      moduleId: env.IOTEDGE_MODULEID,
      generationId: env.IOTEDGE_MODULEGENERATIONID,
    });
    this.tokens = new TokenSource({
      hubHostname: env.IOTEDGE_IOTHUBHOSTNAME,
      deviceId: env.IOTEDGE_DEVICEID,
      moduleId: env.IOTEDGE_MODULEID,
      sign: (data) => this.signWithRetry(data),
    });
  }

  /** Ready = serving. Undefined when ready, else why not. */
  get notReadyReason(): string | undefined {
    return this.notReady || undefined;
  }

  get gatehouse(): Gatehouse | undefined {
    return this.engine;
  }

  get configState(): ConfigState | undefined {
    return this.running;
  }

  get error(): LastError | null {
    return this.lastError;
  }

  get serverCertificateExpiry(): Date | undefined {
    return this.material?.cert.expiration;
  }

  get twinConnected(): boolean {
    return this.twin?.isConnected ?? false;
  }

  /** Start everything; resolves once the proxy serves (or when close() is called first). */
  async start(): Promise<void> {
    if (this.options.admin) this.admin = await startModuleAdmin(this, this.options.admin);
    this.tokenServer = await startTokenServer(this.tokens, {
      port: this.options.tokenServerPort ?? 6001,
      onError: (err) => this.logger.error({ err }, 'token server: no token'),
    });
    // The starting template must at least compile: without it there is nothing to serve.
    this.build(this.template, undefined);
    if (this.options.twin !== false) {
      this.twin = new TwinConnection({
        env: this.env,
        logger: this.logger.child({ component: 'twin' }),
        backoff: this.options.backoff ?? {},
        onDesired: (desired, kind) => this.onDesired(desired, kind),
        onConnectionChange: (connected) =>
          this.logger.info({ connected }, connected ? 'module twin connected' : 'module twin disconnected'),
      });
      this.twin.start();
    }
    this.notReady = 'waiting for the trust bundle and server certificate from the workload API';
    const material = await this.fetchMaterial();
    if (!material) return;
    this.material = material;
    await this.serialized(async () => {
      const built = this.build(this.template, material);
      this.engine = createGatehouse({ config: built.config, baseDir: this.confDir, logger: this.logger });
      await this.engine.start();
      this.running = { source: this.template.source, hash: built.hash };
      this.counters.applied++;
    });
    this.notReady = '';
    this.logger.info(
      { source: this.running?.source, configHash: this.running?.hash, addresses: this.engine?.addresses() },
      'proxy serving',
    );
    this.report();
    this.scheduleRenewal();
    void this.pollTrustBundle();
  }

  /** Apply a twin `proxy_config` value (base64 or gzip+base64 template, or null for the default). */
  applyProxyConfig(value: unknown): Promise<ApplyResult> {
    return this.serialized(async () => {
      let next: { text: string; file: string; source: ConfigState['source'] };
      try {
        const text = decodeProxyConfig(value);
        next =
          text === null ? this.defaultTemplate : { text, file: 'proxy_config (module twin)', source: 'twin' };
      } catch (err) {
        return this.reject(err as Error);
      }
      let built: { config: GatehouseConfig; hash: string };
      try {
        built = this.build(next, this.material);
        if (this.engine) await this.engine.reload(built.config);
      } catch (err) {
        return this.reject(err as Error);
      }
      this.template = next;
      this.lastError = null;
      if (this.engine) {
        this.running = { source: next.source, hash: built.hash };
        this.counters.applied++;
        this.logger.info({ source: next.source, configHash: built.hash }, 'proxy configuration applied');
      }
      this.report();
      return { ok: true, hash: built.hash };
    });
  }

  /** Stop accepting, let in-flight transfers finish (up to the drain timeout), stop everything. */
  async close(): Promise<void> {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    this.notReady = 'stopping';
    clearTimeout(this.renewTimer);
    await this.queue.catch(() => undefined);
    await this.engine?.close(this.options.drainTimeoutMs ?? 30_000);
    await this.twin?.close();
    await this.tokenServer?.close();
    await this.admin?.close();
  }

  private onDesired(desired: Record<string, unknown>, kind: 'full' | 'patch'): void {
    if (!Object.hasOwn(desired, 'proxy_config')) return;
    const value = desired.proxy_config;
    // A full twin arrives on every reconnect: the same value is not applied (or reported) twice.
    // The SDK also emits the whole desired document when it subscribes: one apply per value.
    void kind;
    if (value === this.lastDesired && this.lastError === null) return;
    this.lastDesired = value;
    void this.applyProxyConfig(value);
  }

  private reject(err: Error): ApplyResult {
    const line =
      err instanceof RenderedConfigError || err instanceof NginxConfigError || err instanceof TemplateError
        ? err.line
        : null;
    const message =
      err instanceof TemplateError
        ? `template error: ${err.reason}`
        : err instanceof NginxConfigError
          ? err.reason
          : err instanceof ProxyConfigValueError
            ? err.message
            : err.message;
    this.lastError = { message, line, at: new Date().toISOString() };
    this.counters.rejected++;
    this.logger.error(
      { line, reason: message },
      'proxy configuration rejected; the running one keeps serving',
    );
    this.report();
    return { ok: false, error: this.lastError };
  }

  /** Render → compile → validate, and put the certificate material in. Throws on any error. */
  private build(
    template: { text: string; file: string },
    material: Material | undefined,
  ): { config: GatehouseConfig; hash: string } {
    const tokenPort = this.tokenServer?.port ?? this.options.tokenServerPort ?? 6001;
    const loaded = prepareProxyConfig({
      template: template.text,
      templateFile: template.file,
      env: this.env,
      confDir: this.confDir,
      reserved: { TOKEN_SERVER_PORT: String(tokenPort) },
      ...(this.options.hosts ? { hosts: this.options.hosts } : {}),
      ...(this.options.listenAddress !== undefined ? { listenAddress: this.options.listenAddress } : {}),
      ...(this.options.defaultMaxBodySize !== undefined
        ? { defaultMaxBodySize: this.options.defaultMaxBodySize }
        : {}),
    });
    const hash = createHash('sha256').update(loaded.rendered).digest('hex');
    const config: GatehouseConfig = {
      ...loaded.config,
      drainTimeoutMs: this.options.drainTimeoutMs ?? 30_000,
    };
    if (!material) return { config, hash };
    return { config: inlineMaterial(config, this.confDir, material), hash };
  }

  private async fetchMaterial(): Promise<Material | undefined> {
    const signal = this.stop.signal;
    const onError = (what: string) => (err: Error, delayMs: number) =>
      this.logger.warn({ err, retryInMs: delayMs }, `workload API: ${what} failed`);
    try {
      const trustBundle = await retry(() => this.workload.trustBundle(), {
        ...this.options.backoff,
        signal,
        onError: onError('trust bundle'),
      });
      const cert = await retry(() => this.workload.serverCertificate(this.env.IOTEDGE_GATEWAYHOSTNAME!), {
        ...this.options.backoff,
        signal,
        onError: onError('server certificate'),
      });
      return { trustBundle, cert };
    } catch {
      return undefined; // stopped
    }
  }

  private signWithRetry(data: string): Promise<string> {
    // A few quick attempts: a caller waits on this (auth_request); a longer outage answers 500.
    return (async () => {
      const backoff = new Backoff({ initialMs: 100, maxMs: 1000 });
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.workload.sign(data);
        } catch (err) {
          if (attempt >= 3 || this.stop.signal.aborted) throw err;
          await sleep(backoff.next(), this.stop.signal);
        }
      }
    })();
  }

  /** Renew the server certificate at `renewAtFraction` of its lifetime (the Rust module waits for expiry). */
  private scheduleRenewal(): void {
    const cert = this.material?.cert;
    if (!cert || this.stop.signal.aborted) return;
    let from = cert.issuedAt.getTime();
    let to = cert.expiration.getTime();
    try {
      const x509 = new X509Certificate(cert.cert);
      from = Date.parse(x509.validFrom);
      to = Math.min(to, Date.parse(x509.validTo));
    } catch {
      // the workload's expiration field is used
    }
    const at = from + (to - from) * (this.options.renewAtFraction ?? 0.8);
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(
      () => void this.renew(),
      Math.max(0, Math.min(at - Date.now(), 2 ** 31 - 1)),
    );
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    const backoff = new Backoff(this.options.backoff);
    while (!this.stop.signal.aborted) {
      try {
        const cert = await this.workload.serverCertificate(this.env.IOTEDGE_GATEWAYHOSTNAME!);
        await this.updateMaterial({ cert });
        this.counters.certificateRotations++;
        this.logger.info({ expiry: cert.expiration.toISOString() }, 'server certificate renewed');
        break;
      } catch (err) {
        const delay = backoff.next();
        this.logger.warn(
          { err: err as Error, retryInMs: delay },
          'server certificate renewal failed; the current one keeps serving',
        );
        await sleep(delay, this.stop.signal);
      }
    }
    this.scheduleRenewal();
  }

  private async pollTrustBundle(): Promise<void> {
    const every = this.options.trustBundlePollMs ?? 60_000;
    while (!this.stop.signal.aborted) {
      await sleep(every, this.stop.signal);
      if (this.stop.signal.aborted) return;
      try {
        const bundle = await this.workload.trustBundle();
        if (bundle === this.material?.trustBundle) continue;
        await this.updateMaterial({ trustBundle: bundle });
        this.counters.trustBundleUpdates++;
        this.logger.info('trust bundle changed; applied');
        // The SDK read the bundle once, at fromEnvironment: a new client reads it again.
        this.twin?.reconnect();
      } catch (err) {
        this.logger.warn({ err: err as Error }, 'trust bundle poll failed; keeping the current one');
      }
    }
  }

  private updateMaterial(change: Partial<Material>): Promise<void> {
    return this.serialized(async () => {
      if (!this.material || !this.engine) return;
      const material = { ...this.material, ...change };
      const built = this.build(this.template, material);
      await this.engine.reload(built.config);
      this.material = material;
      this.report();
    });
  }

  private report(): void {
    this.twin?.report({
      status: this.notReady
        ? 'starting'
        : this.lastError
          ? 'running (last configuration rejected)'
          : 'running',
      configHash: this.running?.hash ?? null,
      configSource: this.running?.source ?? null,
      lastError: this.lastError,
      serverCertificateExpiry: this.material?.cert.expiration.toISOString() ?? null,
      moduleVersion: this.options.moduleVersion ?? MODULE_VERSION,
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/**
 * The config with the module's certificate files replaced by the material from the workload API:
 * `server.crt`/`private_key_server.pem` → the server certificate, `trustedCA.crt` → the trust bundle.
 * Inline PEM makes a rotation a config change the engine swaps like any other.
 */
export function inlineMaterial(
  config: GatehouseConfig,
  confDir: string,
  material: Material,
): GatehouseConfig {
  const files = new Map<string, string>([
    [join(confDir, 'server.crt'), material.cert.cert],
    [join(confDir, 'private_key_server.pem'), material.cert.key],
    [join(confDir, 'trustedCA.crt'), material.trustBundle],
  ]);
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const inline =
        typeof v === 'string' && (k === 'certFile' || k === 'keyFile' || k === 'caFile')
          ? files.get(v)
          : undefined;
      if (inline !== undefined) out[k === 'certFile' ? 'cert' : k === 'keyFile' ? 'key' : 'ca'] = inline;
      else out[k] = walk(v);
    }
    return out;
  };
  return walk(config) as GatehouseConfig;
}
