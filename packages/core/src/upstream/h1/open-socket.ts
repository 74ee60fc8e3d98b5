// Open a TCP or TLS connection to an upstream, bounded by the connect timeout (TCP and TLS handshake
// together, as nginx's proxy_connect_timeout covers the connection it needs). node:tls is loaded by
// the first TLS connection (util/lazy-builtin.ts).
import net from 'node:net';
import { UpstreamTimeoutError } from '../../errors/upstream.js';
import type { UpstreamConnectOptions } from '../../tls/upstream-tls.js';
import { lazyBuiltin } from '../../util/lazy-builtin.js';
import { takeReadBuffer } from './read-buffers.js';

const tls = lazyBuiltin('node:tls');

type Lookup = net.LookupFunction;

export interface SocketSettings {
  host: string;
  port: number;
  /** TLS options (trust, client certificate, SNI, identity check); undefined for plain HTTP. */
  tls: UpstreamConnectOptions | undefined;
  connectTimeoutMs: number;
  lookup: Lookup | undefined;
}

export type Connected = (err: Error | null) => void;

/** Reads of a plain socket into pooled buffers: `nread` bytes of `buffer` (see read-buffers.ts). */
export type OnRead = (nread: number, buffer: Buffer) => boolean;

/** A connection attempt: the socket is returned at once (writes are buffered until it connects). */
export function openSocket(
  s: SocketSettings,
  session: Buffer | undefined,
  done: Connected,
  onRead?: OnRead,
): net.Socket {
  let socket: net.Socket;
  if (s.tls) {
    socket = tls().connect({
      ...s.tls,
      host: s.host,
      port: s.port,
      ALPNProtocols: ['http/1.1'],
      ...(session ? { session } : {}),
      ...(s.lookup ? { lookup: s.lookup } : {}),
    });
  } else {
    socket = net.connect({
      host: s.host,
      port: s.port,
      ...(s.lookup ? { lookup: s.lookup } : {}),
      ...(onRead ? { onread: { buffer: takeReadBuffer, callback: onRead } } : {}),
    });
  }
  socket.setNoDelay(true);
  let settled = false;
  const finish = (err: Error | null): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener('error', onError);
    done(err);
  };
  const onError = (err: Error): void => finish(err);
  const timer = setTimeout(() => {
    const err = new UpstreamTimeoutError(
      'UPSTREAM_CONNECT_TIMEOUT',
      `connect timeout after ${s.connectTimeoutMs} ms`,
    );
    finish(err);
    socket.destroy();
  }, s.connectTimeoutMs);
  timer.unref();
  socket.once(s.tls ? 'secureConnect' : 'connect', () => finish(null));
  socket.once('error', onError);
  return socket;
}
