// Upgrade requests (WebSocket and others): routed like any request, then the upstream's 101 is
// relayed and the two sockets are spliced, with an idle timeout and close propagated both ways.
import type { Duplex } from 'node:stream';
import type { CompiledProxy, UpstreamTarget } from '../config/compile.js';
import { upstreamHeaders, upstreamPath } from './proxy-request.js';
import { headerText } from '../upstream/dispatcher.js';
import type { RequestContext } from './request-context.js';
import type { H1Response } from './h1/response.js';
import type { HandlerDeps } from './handler-deps.js';
import { ResponseRelay } from './relay.js';

export interface UpgradeState {
  socket: Duplex;
  head: Buffer;
}

const upgrades = new WeakMap<RequestContext, UpgradeState>();

export function markUpgrade(ctx: RequestContext, state: UpgradeState): void {
  upgrades.set(ctx, state);
}

export function upgradeOf(ctx: RequestContext): UpgradeState | undefined {
  return upgrades.get(ctx);
}

/** The client's Upgrade value reduced to the protocols `action` relays, in the client's order; undefined
 *  when none is left (the request is then served as a plain one, its Upgrade fields dropped). */
export function allowedUpgrade(ctx: RequestContext, action: CompiledProxy): string | undefined {
  const value = ctx.header('upgrade');
  if (value === undefined || action.upgrade.size === 0) return undefined;
  let out: string | undefined;
  for (const item of value.split(',')) {
    const token = item.trim();
    const slash = token.indexOf('/');
    const name = (slash === -1 ? token : token.slice(0, slash)).toLowerCase();
    if (action.upgrade.has(name)) out = out === undefined ? token : `${out}, ${token}`;
  }
  return out;
}

export function forwardUpgrade(
  ctx: RequestContext,
  deps: HandlerDeps,
  action: CompiledProxy,
  target: UpstreamTarget,
  state: UpgradeState,
  protocol: string,
): void {
  const path = upstreamPath(ctx, action, target);
  const headers = upstreamHeaders(ctx, action, target, ctx.snapshot);
  const client = state.socket;
  // nginx bounds idle tunnels with proxy_read_timeout; the engine default applies when the route sets none.
  const idle = target.options.readTimeoutMs ?? ctx.server!.limits.upgradeIdleTimeoutMs;
  ctx.upstream = target.origin;
  // A non-101 answer (401, 404…) is relayed like any response, as nginx does; a 101 splices the sockets.
  const handler = new ResponseRelay(ctx);
  handler.onUpgrade = (statusCode, rawHeaders, upstream) => {
    ctx.status = statusCode;
    // The exchange is answered: the tunnel's end is not a client abort.
    ctx.onClientClose = undefined;
    // The session is accounted for when the tunnel closes: status 101, bytes both ways, duration.
    // Upgrades arrive only on our HTTP/1.1 connections.
    const res = ctx.res as unknown as H1Response;
    res.tunnelOpened();
    res.bytesIn += state.head.length;
    res.bytesOut = 0;
    let head = `HTTP/1.1 ${statusCode} Switching Protocols\r\n`;
    let dated = false;
    for (let i = 0; rawHeaders && i < rawHeaders.length; i += 2) {
      const name = headerText(rawHeaders[i]!);
      if (name.length === 4 && name.toLowerCase() === 'date') dated = true;
      head += `${name}: ${headerText(rawHeaders[i + 1]!)}\r\n`;
    }
    // Every response carries Date (RFC 9110 §6.6.1), as nginx adds it to a relayed 101 that had none.
    if (!dated) head += `Date: ${new Date().toUTCString()}\r\n`;
    res.bytesOut += head.length + 2;
    client.write(head + '\r\n');
    if (state.head.length) upstream.write(state.head);
    splice(client, upstream, idle);
    // Counting beside the pipes: they already keep both sides flowing.
    client.on('data', (c: Buffer) => (res.bytesIn += c.length));
    upstream.on('data', (c: Buffer) => (res.bytesOut += c.length));
    client.once('close', () => res.tunnelClosed());
    // The exchange is now a tunnel; account for it as answered (status 101 keeps the socket open).
    ctx.res.statusCode = statusCode;
    ctx.res.emit('finish');
  };
  deps.pools.get(target).dispatch(
    {
      origin: target.origin,
      path,
      method: ctx.method,
      headers,
      upgrade: protocol,
      body: null,
    },
    handler,
  );
}

function splice(a: Duplex, b: Duplex, idleMs: number): void {
  a.pipe(b);
  b.pipe(a);
  const destroyBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth);
  b.on('error', destroyBoth);
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
  if (idleMs > 0) {
    const sa = a as Duplex & { setTimeout?: (ms: number, cb: () => void) => void };
    const sb = b as Duplex & { setTimeout?: (ms: number, cb: () => void) => void };
    sa.setTimeout?.(idleMs, destroyBoth);
    sb.setTimeout?.(idleMs, destroyBoth);
  }
}
