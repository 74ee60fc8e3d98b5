// `listen [address:]port [ssl] [default_server] [http2] …` → a native listener.
import type { NginxDirective } from './ast.js';
import type { CompileContext } from './context.js';
import type { ListenConfig } from './native-types.js';

/** Socket tuning parameters of nginx's listen that the engine leaves to the OS. */
const IGNORED_PARAMS =
  /^(backlog|rcvbuf|sndbuf|ipv6only|so_keepalive|fastopen|accept_filter|setfib)=|^(reuseport|bind|deferred)$/;

export function compileListen(
  ctx: CompileContext,
  d: NginxDirective,
  wildcard: string | undefined,
): ListenConfig {
  const a = d.args[0]!;
  const text = a.value;
  if (text.startsWith('unix:')) ctx.fail(`unix domain socket listeners are not supported: "${text}"`, a);
  let address: string;
  let port = '80';
  let m: RegExpExecArray | null;
  if ((m = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(text))) {
    address = m[1]!;
    if (m[2] !== undefined) port = m[2];
  } else if (/^\d+$/.test(text)) {
    address = '*';
    port = text;
  } else if ((m = /^([^:]+):(\d+)$/.exec(text))) {
    address = m[1]!;
    port = m[2]!;
  } else if (/^[^:]+$/.test(text)) {
    address = text;
  } else {
    ctx.fail(`invalid port in "${text}" of the "listen" directive`, a);
  }
  const portNumber = Number(port);
  // Port 0 (any free port) is allowed on purpose: tests and embedders read the bound port back.
  if (portNumber > 65535) ctx.fail(`invalid port in "${text}" of the "listen" directive`, a);
  if (address === '*' || address === '0.0.0.0') address = wildcard ?? '0.0.0.0';
  else if (address === '::' && wildcard !== undefined) address = wildcard;

  const listen: ListenConfig = { address, port: portNumber };
  let http2 = false;
  for (const p of d.args.slice(1)) {
    if (p.value === 'ssl') listen.tls = true;
    else if (p.value === 'default_server' || p.value === 'default') listen.defaultServer = true;
    else if (p.value === 'http2') http2 = true;
    else if (p.value === 'proxy_protocol' || p.value === 'quic') {
      ctx.fail(`the "${p.value}" parameter of "listen" is not supported`, p);
    } else if (IGNORED_PARAMS.test(p.value)) {
      ctx.notice(`"listen" parameter "${p.value}" is accepted and ignored`, p);
    } else {
      ctx.fail(`invalid parameter "${p.value}"`, p);
    }
  }
  // nginx speaks HTTP/2 only where asked; keep that (the engine would offer h2 on TLS by default).
  if (listen.tls) listen.http2 = http2;
  else if (http2) listen.h2c = true;
  return listen;
}
