// The engine's native config types, imported in one place so the adapter has a single seam to core.
export type {
  GatehouseConfig,
  HeaderSet,
  ListenConfig,
  MapConfig,
  ProxyAction,
  RouteAction,
  RouteConfig,
  RouteMatch,
  ServerConfig,
  ServerTlsConfig,
  Statement,
  Condition,
  TlsVersion,
  UpstreamTlsConfig,
  LogConfig,
} from '@gatehouse/core';
