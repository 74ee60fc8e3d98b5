// The engine: owns listeners, upstream pools, the current config snapshot, metrics and logs.
// Configured only through the native config; `reload` validates and compiles first, then swaps
// atomically — requests in flight keep the snapshot they started with.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2';
import { Server } from 'node:net';
import type { Registry } from 'prom-client';
import { compileConfig, type CompiledProxy, type CompiledServer, type Snapshot } from './config/compile.js';
import type { GatehouseConfig, ServerTlsConfig } from './config/types.js';
import { validateConfig } from './config/validate.js';
import type { ErrorRenderer } from './errors/renderer.js';
import type { AdminServer } from './admin/admin-server.js';
import { EngineMetrics } from './observability/metrics.js';
import { createAccessLog, type AccessLog } from './observability/access-log.js';
import { createLogger, type Logger } from './observability/logger.js';
import { listenerKey, openListener, type ListenerRuntime } from './server/listener.js';
import {
  createRequestHandler,
  createUpgradeHandler,
  type HandlerDeps,
  type PipelineRunner,
} from './server/request-handler.js';
import type { RequestContext } from './server/request-context.js';
import type { ServerTlsRuntime } from './tls/server-tls.js';
import { PoolRegistry } from './upstream/pools.js';
import type { ResponseCache } from './upstream/response-cache.js';

export interface GatehouseOptions {
  /** Native config (validated here). */
  config: GatehouseConfig | unknown;
  /** Directory relative file paths in the config are resolved against. Default: process.cwd(). */
  baseDir?: string;
  /** Use this logger instead of one built from `config.log`. */
  logger?: Logger;
  /** Plugin pipeline for routes that name plugins. */
  pipeline?: PipelineRunner;
  /** Where the access log goes when `log.access` is true (default stdout). */
  accessLogStream?: NodeJS.WritableStream;
  /** Error renderers by name, for `errors` in servers and routes (besides the built-in `json`). */
  errorRenderers?: Readonly<Record<string, ErrorRenderer>>;
}

export interface BoundAddress {
  server: string;
  address: string;
  port: number;
  tls: boolean;
}

interface ListenerEntry {
  runtime: ListenerRuntime;
  /** The key the listener's closures look servers up by (changes when a port-0 listener is pinned). */
  ref: { key: string };
  tls: ServerTlsRuntime | undefined;
  tlsKey: string;
  /** Open HTTP/2 sessions (sent GOAWAY on close). */
  sessions: Set<Http2Session>;
}

/** How long a kept-alive connection idle when draining starts may still send one more request. */
const IDLE_GRACE_MS = 2000;
/** How often the drain looks whether connections and requests are done. */
const DRAIN_POLL_MS = 20;
const netServerClose = Server.prototype.close;

export class Gatehouse {
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
  private current: Snapshot;
  private readonly pools: PoolRegistry;
  private readonly listeners = new Map<string, ListenerEntry>();
  private readonly serversByListener = new WeakMap<Snapshot, Map<string, CompiledServer[]>>();
  private readonly caches = new WeakMap<CompiledProxy, ResponseCache>();
  private readonly deps: HandlerDeps;
  private admin: AdminServer | undefined;
  private accessLog: AccessLog | undefined;
  private closing = false;
  /** Byte counters of each client socket when its previous request finished. */
  private inflight = 0;
  private readonly baseDir: string;
  private metricsSource: (() => Promise<string>) | undefined;

  constructor(private readonly options: GatehouseOptions) {
    const config = this.validate(options.config, options.pipeline);
    this.current = this.compile(config, options.pipeline);
    this.baseDir = options.baseDir ?? process.cwd();
    this.logger = options.logger ?? createLogger(config.log);
    this.metrics = new EngineMetrics();
    this.pools = new PoolRegistry({ baseDir: this.baseDir });
    this.pools.configure(this.current.hosts, config.egressProxy);
    this.setupAccessLog(config);
    this.deps = {
      snapshot: () => this.current,
      pools: this.pools,
      caches: this.caches,
      draining: () => this.closing,
      hooks: { finish: (ctx) => this.finish(ctx) },
    };
  }

  /** Validate against what this engine has: its error renderers and the plugins `pipeline` can run. */
  private validate(config: unknown, pipeline: PipelineRunner | undefined): GatehouseConfig {
    return validateConfig(config, {
      errorRenderers: Object.keys(this.options.errorRenderers ?? {}),
      plugins: pipeline?.pluginNames() ?? [],
    });
  }

  private compile(config: GatehouseConfig, pipeline: PipelineRunner | undefined): Snapshot {
    return compileConfig(config, undefined, { errorRenderers: this.options.errorRenderers, pipeline });
  }

  get registry(): Registry {
    return this.metrics.registry;
  }

  get snapshot(): Snapshot {
    return this.current;
  }

  /** The Prometheus text the admin listener's /metrics serves: this engine's registry, unless a
   *  source was set (a cluster worker serves the whole gateway's, collected over the primary). */
  metricsText(): Promise<string> {
    return this.metricsSource ? this.metricsSource() : this.registry.metrics();
  }

  /** Where metricsText() comes from; undefined: this engine's registry. */
  setMetricsSource(source: (() => Promise<string>) | undefined): void {
    this.metricsSource = source;
  }

  /** Set or replace the plugin pipeline (routes naming plugins use it from the next request). Throws a
   *  ConfigError, keeping the running pipeline, when it cannot run a plugin the config names. */
  setPipeline(pipeline: PipelineRunner | undefined): void {
    this.current = this.compile(this.validate(this.current.config, pipeline), pipeline);
  }

  /** Bind every listener and the admin server. */
  async start(): Promise<void> {
    await this.reconcileListeners(this.current);
    const admin = this.current.config.admin;
    // Loaded only when configured: it is a node:http server, which a proxy without one never loads.
    if (admin) this.admin = await (await import('./admin/admin-server.js')).startAdminServer(admin, this);
    for (const a of this.addresses())
      this.logger.info({ server: a.server, address: a.address, port: a.port, tls: a.tls }, 'listening');
  }

  /** Validate, compile and swap in a new config, with a new plugin pipeline when `options.pipeline` is
   *  given (else the running one). An invalid config throws and the old one keeps serving. */
  async reload(config: GatehouseConfig | unknown, options?: { pipeline?: PipelineRunner }): Promise<void> {
    let next: Snapshot;
    try {
      const pipeline = options && 'pipeline' in options ? options.pipeline : this.current.pipeline;
      next = this.compile(this.validate(config, pipeline), pipeline);
      await this.reconcileListeners(next);
    } catch (err) {
      this.metrics.reloads.inc({ result: 'failure' });
      this.logger.error(
        { err: { message: (err as Error).message } },
        'configuration rejected; keeping the running one',
      );
      throw err;
    }
    this.pools.configure(next.hosts, next.config.egressProxy);
    this.setupAccessLog(next.config);
    this.current = next;
    this.metrics.reloads.inc({ result: 'success' });
    this.logger.info({ generation: next.generation }, 'configuration reloaded');
  }

  /** The addresses actually bound (port 0 resolved). */
  addresses(): BoundAddress[] {
    const out: BoundAddress[] = [];
    for (const s of this.current.servers)
      for (const l of s.listen) {
        const entry = this.listeners.get(listenerKey(l));
        if (!entry) continue;
        const a = entry.runtime.address();
        out.push({ server: s.name, address: a.address, port: a.port, tls: entry.runtime.tls });
      }
    return out;
  }

  adminAddress(): { address: string; port: number } | undefined {
    return this.admin?.address();
  }

  /** Pool statistics (connected/free/pending/running upstream connections). */
  upstreamStats(): ReturnType<PoolRegistry['stats']> {
    return this.pools.stats();
  }

  /**
   * Replace the default certificate of the TLS listeners of server `serverName` (all TLS listeners when
   * undefined) with an in-memory pair — the programmatic rotation the iot-module drives from its HTTP API.
   * New handshakes get the new pair; open connections keep theirs. A refused pair throws the store's
   * CertificateError and the old pair keeps serving.
   */
  async updateCertificate(
    serverName: string | undefined,
    pair: { cert: string; key: string; passphrase?: string },
  ): Promise<void> {
    const runtimes = new Set<ServerTlsRuntime>();
    for (const s of this.current.servers) {
      if (serverName !== undefined && s.name !== serverName) continue;
      for (const l of s.listen) {
        const tls = l.tls ? this.listeners.get(listenerKey(l))?.tls : undefined;
        if (tls) runtimes.add(tls);
      }
    }
    if (runtimes.size === 0)
      throw new Error(
        serverName === undefined ? 'no TLS listener' : `server "${serverName}" has no TLS listener`,
      );
    const source = {
      cert: pair.cert,
      key: pair.key,
      ...(pair.passphrase !== undefined ? { passphrase: pair.passphrase } : {}),
    };
    for (const runtime of runtimes) {
      const result = await runtime.store.update(runtime.defaultName, source);
      if (!result.ok) throw result.error;
    }
  }

  /** True once close() has begun. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.inflight;
  }

  /**
   * Stop accepting, drain, then close everything. Draining: in-flight requests finish (up to the drain
   * timeout); a kept-alive HTTP/1 connection keeps being served for a short grace, its next request
   * answered with `Connection: close` — closing it at once would race with a client already sending on
   * it (a reset, a lost request); HTTP/2 sessions get GOAWAY. Connections idle past the grace are
   * closed, and whatever remains at the drain timeout is destroyed.
   */
  async close(drainTimeoutMs = this.current.config.drainTimeoutMs ?? 10_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const entries = [...this.listeners.values()];
    for (const e of entries) {
      // net's close, not http's: http.Server#close also closes idle kept-alive connections at once.
      netServerClose.call(e.runtime.server);
      for (const session of e.sessions) session.close();
    }
    await this.drain(entries, Math.min(IDLE_GRACE_MS, drainTimeoutMs / 2), drainTimeoutMs);
    for (const e of entries) {
      for (const s of e.runtime.connections) s.destroy();
      // The full close now: it also stops node's connection-checking timer.
      e.runtime.server.close();
      e.tls?.close();
    }
    this.listeners.clear();
    await this.admin?.close();
    await this.pools.destroy();
    this.accessLog?.close();
  }

  /** Resolve once no client connection is left, or the grace is over and no request is in flight, or at the timeout. */
  private drain(entries: ListenerEntry[], graceMs: number, timeoutMs: number): Promise<void> {
    const open = (): number => entries.reduce((n, e) => n + e.runtime.connections.size, 0);
    if (open() === 0 && this.inflight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let graceOver = false;
      const done = (): void => {
        clearInterval(poll);
        clearTimeout(grace);
        clearTimeout(deadline);
        resolve();
      };
      const check = (): void => {
        if (open() === 0 || (graceOver && this.inflight === 0)) done();
      };
      const poll = setInterval(check, DRAIN_POLL_MS);
      const grace = setTimeout(() => {
        graceOver = true;
        // Connections that sent nothing during the grace: like a keep-alive timeout, close them now.
        for (const e of entries) e.runtime.closeIdle();
        check();
      }, graceMs);
      const deadline = setTimeout(done, timeoutMs);
      // Not unref'd: whoever awaits close() needs the drain to end even when nothing else holds the loop.
    });
  }

  private serversFor = (snap: Snapshot, key: string): CompiledServer[] => {
    let map = this.serversByListener.get(snap);
    if (!map) {
      map = new Map();
      for (const s of snap.servers)
        for (const l of s.listen) {
          const k = listenerKey(l);
          const list = map.get(k) ?? [];
          if (!list.includes(s)) list.push(s);
          map.set(k, list);
        }
      this.serversByListener.set(snap, map);
    }
    return map.get(key) ?? [];
  };

  private async reconcileListeners(snap: Snapshot): Promise<void> {
    const wanted = new Map<
      string,
      { spec: CompiledServer['listen'][number]; server: CompiledServer; all: CompiledServer[] }
    >();
    for (const s of snap.servers)
      for (const l of s.listen) {
        const k = listenerKey(l);
        const prev = wanted.get(k);
        const all = prev?.all ?? [];
        if (!all.includes(s)) all.push(s);
        if (!prev || l.defaultServer) wanted.set(k, { spec: l, server: s, all });
      }
    const opened: ListenerEntry[] = [];
    try {
      for (const [key, { spec, server, all }] of wanted) {
        let existing = this.listeners.get(key);
        if (!existing && spec.port !== 0) {
          // A listener opened on port 0 and now named by its bound port is the same socket: keep it.
          const zeroKey = listenerKey({ ...spec, port: 0 });
          const candidate = this.listeners.get(zeroKey);
          if (candidate && candidate.runtime.address().port === spec.port && !wanted.has(zeroKey)) {
            this.listeners.delete(zeroKey);
            candidate.runtime.key = key;
            this.listeners.set(key, candidate);
            candidate.ref.key = key;
            existing = candidate;
          }
        }
        const tlsConfig = spec.tls ? listenerTls(server, all) : undefined;
        const tlsKey = tlsConfig ? JSON.stringify(tlsConfig) : '';
        if (existing) {
          if (existing.tlsKey !== tlsKey && tlsConfig) {
            // New certificates/settings: swap the secure context in place; open connections are untouched.
            const tls = await this.createTls(tlsConfig, server.name);
            const old = existing.tls;
            existing.tls = tls;
            existing.tlsKey = tlsKey;
            const srv = existing.runtime.server as import('node:tls').Server & {
              requestCert?: boolean;
              rejectUnauthorized?: boolean;
            };
            srv.setSecureContext(tls.serverOptions);
            // setSecureContext keeps the server's own client-certificate flags; Node reads them per connection.
            srv.requestCert = tls.serverOptions.requestCert === true;
            srv.rejectUnauthorized = tls.serverOptions.rejectUnauthorized === true;
            tls.attach(srv);
            old?.close();
          }
          continue;
        }
        const tls = tlsConfig ? await this.createTls(tlsConfig, server.name) : undefined;
        const ref = { key };
        const upgrade = createUpgradeHandler(
          this.deps,
          (s) => this.serversFor(s, ref.key),
          spec.tls === true,
        );
        const handler = createRequestHandler(
          this.deps,
          (s) => this.serversFor(s, ref.key),
          spec.tls === true,
        );
        const runtime = await openListener({
          spec,
          limits: server.limits,
          deps: this.deps,
          serversFor: (s) => this.serversFor(s, ref.key),
          onRequest: (req, res) => this.track(req, res, handler),
          onUpgrade: (req, res, socket, head) => {
            this.inflight++;
            upgrade(req as unknown as IncomingMessage, res, socket, head);
          },
          tlsOptions: tls
            ? { ...tls.serverOptions, SNICallback: (name, cb) => this.sni(ref.key, name, cb) }
            : undefined,
          // ref, not runtime: in a cluster worker a connection can arrive before openListener resolves.
          onConnectionCount: (d) => this.metrics.openConnections.inc({ listener: ref.key }, d),
        });
        if (tls) tls.attach(runtime.server as import('node:tls').Server);
        const sessions = new Set<Http2Session>();
        runtime.server.on('session', (session: Http2Session) => {
          // A session set up after draining began (its handshake was under way) is told at once.
          if (this.closing) return void session.close();
          sessions.add(session);
          session.once('close', () => sessions.delete(session));
        });
        const entry: ListenerEntry = { runtime, ref, tls, tlsKey, sessions };
        opened.push(entry);
        this.listeners.set(key, entry);
      }
    } catch (err) {
      for (const e of opened) {
        this.listeners.delete(e.runtime.key);
        e.runtime.server.close();
        e.tls?.close();
      }
      throw err;
    }
    // Listeners no longer configured: stop accepting; their open connections finish what they started.
    for (const [key, entry] of this.listeners) {
      if (wanted.has(key)) continue;
      this.listeners.delete(key);
      entry.runtime.server.close();
      entry.runtime.closeIdle();
      entry.tls?.close();
    }
  }

  private sni(
    key: string,
    name: string,
    cb: (err: Error | null, ctx?: import('node:tls').SecureContext) => void,
  ): void {
    const tls = this.listeners.get(key)?.tls;
    const f = tls?.serverOptions.SNICallback;
    if (f) f(name, cb);
    else cb(null, undefined);
  }

  private async createTls(cfg: ServerTlsConfig, name: string): Promise<ServerTlsRuntime> {
    // Loaded by the first TLS listener: a plain-HTTP config never loads the certificate store.
    const { createServerTls } = await import('./tls/server-tls.js');
    return createServerTls(cfg, {
      logger: this.logger,
      registry: this.metrics.registry,
      baseDir: this.baseDir,
      name,
    });
  }

  private track(
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
    handler: (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void,
  ): void {
    this.inflight++;
    handler(req, res);
  }

  private finish(ctx: RequestContext): void {
    this.inflight--;
    const seconds = (performance.now() - ctx.start) / 1000;
    // HTTP/1 responses count their request's and their own bytes (an HTTP/2 session is shared by streams).
    const counted = ctx.res as { bytesIn?: number; bytesOut?: number };
    if (counted.bytesOut !== undefined) {
      ctx.bytesIn = counted.bytesIn ?? 0;
      ctx.bytesOut = counted.bytesOut;
      this.metrics.bytesIn.inc(ctx.bytesIn);
      this.metrics.bytesOut.inc(ctx.bytesOut);
    }
    this.metrics.observe(ctx.server, ctx.route, ctx.status, seconds);
    if (ctx.error && ctx.error.startsWith('upstream_')) this.metrics.upstreamErrors.inc({ kind: ctx.error });
    if (ctx.droppedFields)
      this.metrics.droppedFields.inc(
        { server: ctx.server?.name ?? '', reason: 'underscore' },
        ctx.droppedFields,
      );
    this.accessLog?.write(ctx);
  }

  /** Keep the access log when its target is unchanged; otherwise open the new one and close the old. */
  private setupAccessLog(config: GatehouseConfig): void {
    const target = config.log?.access || undefined;
    if (this.accessLog?.target === target) return;
    this.accessLog?.close();
    this.accessLog = target === undefined ? undefined : createAccessLog(target, this.options.accessLogStream);
  }
}

/**
 * The TLS settings of a listener shared by several servers (nginx server blocks on one port): the default
 * server's settings, plus every other server's certificates offered by SNI for its server names. Client
 * certificates are requested when any server on the port asks for them (each server checks its own mode).
 */
function listenerTls(main: CompiledServer, all: CompiledServer[]): ServerTlsConfig | undefined {
  const base = main.config.tls;
  if (!base || all.length === 1) return base;
  const sni = [...(base.sni ?? [])];
  let clientCertificate = base.clientCertificate;
  for (const s of all) {
    if (s === main || !s.config.tls) continue;
    const t = s.config.tls;
    if (t.certificate)
      sni.push({ ...t.certificate, serverNames: s.serverNames.length ? s.serverNames : undefined });
    sni.push(...(t.sni ?? []));
    if (
      (!clientCertificate || clientCertificate.mode === 'off') &&
      t.clientCertificate &&
      t.clientCertificate.mode !== 'off'
    )
      clientCertificate = { ...t.clientCertificate, mode: 'optional_no_ca' };
  }
  return { ...base, sni, clientCertificate };
}

/** Create an engine from a native config. Call `start()` to bind its listeners. */
export function createGatehouse(options: GatehouseOptions): Gatehouse {
  return new Gatehouse(options);
}
