// nginx as a peer: one worker, keep-alive pool of 64 to the upstream, HTTP/1.1 upstream with the
// Connection header cleared, access log off, otherwise defaults (so proxy_buffering stays on).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nginxTempPaths } from '../env/origin.js';
import { launch, prepare } from './launch.js';
import { routePath, upstreamPort, type Peer, type RunContext, type SystemSpec } from './types.js';

export function nginxProxyConf(ctx: RunContext, dir: string, port: number, spec: SystemSpec): string {
  const listen = spec.tls
    ? `listen 127.0.0.1:${port} ssl${spec.http2 ? ' http2' : ''} backlog=4096;
    ssl_certificate ${ctx.certs[spec.tls].certFile};
    ssl_certificate_key ${ctx.certs[spec.tls].keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;`
    : `listen 127.0.0.1:${port} backlog=4096;`;
  const locations =
    spec.routes === undefined
      ? ['location / { proxy_pass http://origin; }']
      : Array.from(
          { length: spec.routes },
          (_, i) => `location ${routePath(i)} { proxy_pass http://origin; }`,
        );
  return `user root;
worker_processes 1;
worker_rlimit_nofile 20000;
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 19000; }
http {
  access_log off;
  ${nginxTempPaths(join(dir, 'tmp'))}
  upstream origin {
    server 127.0.0.1:${upstreamPort(ctx, spec)};
    keepalive 64;
  }
  server {
    ${listen}
    proxy_http_version 1.1;
    ${
      spec.websocket
        ? 'proxy_set_header Upgrade $http_upgrade;\n    proxy_set_header Connection "upgrade";\n    proxy_read_timeout 120s;'
        : 'proxy_set_header Connection "";'
    }${
      // nginx ends an HTTP/2 connection after 1000 requests (keepalive_requests); h2load does not reconnect.
      spec.http2 ? '\n    keepalive_requests 100000000;' : ''
    }
    ${locations.join('\n    ')}
  }
}
`;
}

export const nginxPeer: Peer = {
  name: 'nginx',
  async unavailable() {
    return undefined;
  },
  unsupported() {
    return undefined;
  },
  async start(ctx, spec) {
    const { dir, port } = await prepare(ctx, 'nginx');
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nginxProxyConf(ctx, dir, port, spec));
    return launch('nginx', spec, port, 'nginx', [
      '-p',
      dir + '/',
      '-c',
      conf,
      '-g',
      `pid ${join(dir, 'nginx.pid')}; daemon off;`,
    ]);
  },
};
