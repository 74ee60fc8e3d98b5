// `analytics` (reference §4.10): one APIAnalytics record per request, built when the response
// closes (a listener, not a response hook, so requests keep the engine's direct path), uploaded
// by the AnalyticsUploader. Off in EDGEMICRO_LOCAL and standalone modes (no Edge to send to).
import { randomUUID } from 'node:crypto';
import { definePlugin, type NativePlugin, type PluginRequest, type PluginResponse } from '@gatehouse/core';
import type { GatewayPluginContext } from '../context.js';
import { compileExcludeUrls } from '../resource-match/exclude-urls.js';
import { num, sectionOf, str, strings } from '../shared/options.js';
import { AnalyticsUploader } from './uploader.js';

const uploaders = new Map<string, AnalyticsUploader>();

/** The uploader for a URI (kept across control-plane polls so buffered records survive a reload). */
function uploaderFor(uri: string, make: () => AnalyticsUploader): AnalyticsUploader {
  let u = uploaders.get(uri);
  if (!u) uploaders.set(uri, (u = make()));
  return u;
}

/** Send what is buffered and stop the timers (process shutdown). */
export async function closeAnalytics(): Promise<void> {
  const all = [...uploaders.values()];
  uploaders.clear();
  for (const u of all) {
    u.close();
    await u.flush();
  }
}

function header(req: PluginRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function record(
  req: PluginRequest,
  res: PluginResponse,
  revisions: ReadonlyMap<string, string>,
  end: number,
) {
  const token = (req.token ?? {}) as Record<string, unknown>;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const start = req.reqStartTimestamp;
  const target = req.targetHostname
    ? `${req.targetSecure ? 'https' : 'http'}://${req.targetHostname}:${req.targetPort}${req.targetPath}`
    : null;
  return {
    client_received_start_timestamp: start,
    client_received_end_timestamp: start,
    recordType: 'APIAnalytics',
    apiproxy: res.proxy.name,
    request_uri: `http://${header(req, 'host') ?? ''}${url}`,
    request_path: q === -1 ? url : url.slice(0, q),
    request_verb: req.method,
    client_ip: header(req, 'x-forwarded-for') ?? req.socket.remoteAddress ?? null,
    useragent: header(req, 'user-agent') ?? null,
    apiproxy_revision: revisions.get(res.proxy.name) ?? null,
    // A client that left before its answer was complete: 499, as edgemicro records it.
    response_status_code: res.writableFinished ? res.statusCode : 499,
    client_sent_start_timestamp: end,
    client_sent_end_timestamp: end,
    // The engine does not time the upstream leg per request on this path: edgemicro sends null for
    // the sent pair too.
    target_sent_start_timestamp: null,
    target_sent_end_timestamp: null,
    target_received_start_timestamp: null,
    target_received_end_timestamp: null,
    target_basepath: req.targetPath || null,
    target_host: req.targetHostname || null,
    target_url: target,
    target_response_code: res.statusCode,
    developer_email: token.developer_email ?? null,
    developer_app: token.application_name ?? null,
    access_token: token.access_token ?? null,
    client_id: token.client_id ?? null,
    api_product: req.api_product ?? null,
    gateway_flow_id: randomUUID(),
  };
}

export function analytics(gctx: GatewayPluginContext): NativePlugin {
  return definePlugin({
    name: 'analytics',
    init(initConfig) {
      if (gctx.mode === 'local' || gctx.mode === 'standalone') return {};
      const s = sectionOf(gctx.config, 'analytics', initConfig);
      const uri = str(s, 'analytics', 'uri');
      if (!uri) return {};
      const bufferSize = num(s, 'analytics', 'bufferSize', 10_000, 1);
      const uploader = uploaderFor(
        uri,
        () =>
          new AnalyticsUploader({
            uri,
            key: gctx.key ?? '',
            secret: gctx.secret ?? '',
            bufferSize,
            batchSize: Math.min(num(s, 'analytics', 'batchSize', 500, 1), bufferSize),
            flushIntervalMs: num(s, 'analytics', 'flushInterval', 250, 10),
          }),
      );
      const excluded = compileExcludeUrls(strings(s, 'analytics', 'excludeUrls'));
      const revisions = new Map(gctx.edge.proxies.map((p) => [p.name, p.revision]));
      return {
        onRequest(ctx) {
          const { req, res } = ctx;
          if (excluded(req)) return;
          res.once('close', () => uploader.push(record(req, res, revisions, Date.now())));
        },
      };
    },
  });
}
