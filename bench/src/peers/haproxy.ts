// haproxy as a peer: one thread, `http-reuse always`, TLS without tickets or session cache.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, prepare } from './launch.js';
import { upstreamPort, type Peer } from './types.js';

export const haproxyPeer: Peer = {
  name: 'haproxy',
  async unavailable() {
    return undefined;
  },
  unsupported(spec) {
    return spec.routes !== undefined
      ? 'route tables are compared between gatehouse and nginx only'
      : undefined;
  },
  async start(ctx, spec) {
    const { dir, port } = await prepare(ctx, 'haproxy');
    const bind = spec.tls
      ? `bind 127.0.0.1:${port} ssl crt ${ctx.certs[spec.tls].bundleFile} ssl-min-ver TLSv1.2 no-tls-tickets alpn ${spec.http2 ? 'h2,' : ''}http/1.1`
      : `bind 127.0.0.1:${port}`;
    const conf = `global
  nbthread 1
  # haproxy reserves two fds per connection; under this machine's hard limit of 20000 fds that caps
  # it at 9,993 connections (the idle-10k scenario reports how many it held).
  maxconn 9990
  tune.ssl.cachesize 0

defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
  http-reuse always

frontend fe
  ${bind}
  default_backend be

backend be
  server origin 127.0.0.1:${upstreamPort(ctx, spec)}
`;
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, conf);
    return launch('haproxy', spec, port, 'haproxy', ['-db', '-f', file]);
  },
};
