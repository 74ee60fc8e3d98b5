// The head of a proxied response: the upstream's fields that may go to the client, and what the
// engine adds to them.
import { sameName } from '../http1/head-scan.js';
import { isHopByHopName, nominatedFields } from '../http1/hop-headers.js';
import type { RequestContext } from './request-context.js';
import { headerText, type RawHeaders } from '../upstream/dispatcher.js';

/** The upstream response's fields that may go to the client (flat name/value list, as received):
 *  hop-by-hop fields and those the upstream nominated in `Connection` are dropped. */
export function forwardableResponseHeaders(rawHeaders: RawHeaders): string[] {
  let out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = headerText(rawHeaders[i]!);
    const value = headerText(rawHeaders[i + 1]!);
    if (isHopByHopName(name)) {
      if (name.length === 10 && sameName(name, 0, 'connection'))
        connection = connection ? `${connection},${value}` : value;
      continue;
    }
    out.push(name, value);
  }
  // Nominated fields are rare: filter afterwards.
  const nominated = nominatedFields(connection);
  if (nominated.size) out = out.filter((_v, i, a) => !nominated.has(a[i - (i % 2)]!.toLowerCase()));
  return out;
}

/** What the engine adds to a proxied response, appended to `out` as name, value pairs: `Via`, then the
 *  route's `add_header`s (else the server's). */
export function addedResponseHeaders(ctx: RequestContext, out: string[]): void {
  const via = ctx.snapshot.headers.via;
  if (via) out.push('via', `1.1 ${via}`);
  const list = ctx.route?.addResponseHeaders.length
    ? ctx.route.addResponseHeaders
    : ctx.server?.addResponseHeaders;
  if (list)
    for (const h of list) {
      const v = h.value.evaluate(ctx);
      if (v !== '') out.push(h.name, v);
    }
}
