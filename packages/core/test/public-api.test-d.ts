// Type-level pins of @gatehouse/core's public surface, checked by `pnpm lint` (tsc over the
// workspace); never run. A change to what the package exports, or to the shape a library user
// writes against, fails to compile here. Runtime names are also pinned by public-api.test.ts.
import type * as Core from '../src/index.js';
import type * as Internal from '../src/internal.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

// The values (functions, classes, constants) the package exports, and no others.
export type Values = Expect<
  Equal<
    keyof typeof Core,
    | 'ConfigError'
    | 'EDGEMICRO_EVENTS'
    | 'ERROR_STATUS'
    | 'Gatehouse'
    | 'PluginLoadError'
    | 'ProxyError'
    | 'UpstreamBusyError'
    | 'UpstreamConnectError'
    | 'UpstreamDnsError'
    | 'UpstreamError'
    | 'UpstreamProtocolError'
    | 'UpstreamRequestError'
    | 'UpstreamResetError'
    | 'UpstreamTimeoutError'
    | 'UpstreamTlsError'
    | 'checkConfig'
    | 'createGatehouse'
    | 'createLogger'
    | 'createPluginLogger'
    | 'createPluginPipeline'
    | 'createPluginStats'
    | 'definePlugin'
    | 'importPluginModule'
    | 'initPlugin'
    | 'jsonRenderer'
    | 'loadPlugins'
    | 'nativeHandlers'
    | 'parseConfigText'
    | 'pluginConfig'
    | 'pluginErrorBody'
    | 'pluginErrorStatus'
    | 'readConfigFile'
    | 'startDemoUpstream'
    | 'tls'
    | 'validateConfig'
  >
>;
export type TlsValues = Expect<
  Equal<
    keyof typeof Core.tls,
    | 'CertificateError'
    | 'createCertificateAuthority'
    | 'encryptPrivateKey'
    | 'issueCertificate'
    | 'splitPemCertificates'
    | 'toPkcs12'
  >
>;
export type InternalValues = Expect<
  Equal<
    keyof typeof Internal,
    | 'Router'
    | 'TemplateError'
    | 'compileConfig'
    | 'compileTemplate'
    | 'egressProxyFromEnv'
    | 'parseTarget'
    | 'tls'
  >
>;

// What a library user writes against.
export type CreateGatehouse = Expect<
  Equal<typeof Core.createGatehouse, (options: Core.GatehouseOptions) => Core.Gatehouse>
>;
export type Validate = Expect<
  Equal<
    typeof Core.validateConfig,
    (input: unknown, options?: string | Core.ValidateOptions) => Core.GatehouseConfig
  >
>;
export type Check = Expect<
  Equal<typeof Core.checkConfig, (input: unknown, source?: string) => Core.GatehouseConfig>
>;
export type Codes = Expect<Equal<Core.ProxyError['code'], Core.ErrorCode>>;
export type Statuses = Expect<Equal<typeof Core.ERROR_STATUS, Record<Core.ErrorCode, number>>>;
export type Problems = Expect<Equal<Core.ConfigError['problems'], Core.ConfigProblem[]>>;
export type Options = Expect<
  Equal<
    keyof Core.GatehouseOptions,
    'config' | 'baseDir' | 'logger' | 'pipeline' | 'accessLogStream' | 'errorRenderers'
  >
>;
export type ConfigKeys = Expect<Equal<'servers' extends keyof Core.GatehouseConfig ? true : false, true>>;
export type Plugins = Expect<
  Equal<ReturnType<typeof Core.createPluginPipeline> extends Core.PipelineRunner ? true : false, true>
>;

// What a native hook gets.
export type HookContextKeys = Expect<
  Equal<
    keyof Core.HookContext,
    'req' | 'res' | 'targetResponse' | 'respond' | 'requestHeader' | 'setRequestHeader'
  >
>;
export type SetRequestHeader = Expect<
  Equal<Core.HookContext['setRequestHeader'], (name: string, value: string | undefined) => void>
>;

// Config and plugin types a user names (a missing one fails to compile).
export type Named = [
  Core.GatehouseConfig,
  Core.ServerConfig,
  Core.RouteConfig,
  Core.RouteMatch,
  Core.RouteAction,
  Core.ProxyAction,
  Core.ReturnAction,
  Core.UpstreamTlsConfig,
  Core.ServerTlsConfig,
  Core.LogConfig,
  Core.BoundAddress,
  Core.Logger,
  Core.RequestContext,
  Core.PipelineRunner,
  Core.PluginModule,
  Core.DemoUpstream,
  Core.tls.IssuedCertificate,
  Core.tls.CertificateInfo,
];

// Compiler internals are not public types.
// @ts-expect-error Snapshot is internal
export type NoSnapshot = Core.Snapshot;
// @ts-expect-error CompiledRoute is internal
export type NoCompiledRoute = Core.CompiledRoute;
// @ts-expect-error Router is internal
export type NoRouter = Core.Router;
export type InternalSnapshot = Internal.Snapshot;
