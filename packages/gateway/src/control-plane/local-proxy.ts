// The synthetic proxy of the local modes (reference §4.13): `-a name -v revision -b basepath
// -t target` (or EDGEMICRO_API_PROXYNAME/REVISION/BASEPATH/TARGET), all four required.
import type { EdgeProxy } from './types.js';

export interface LocalProxyArgs {
  apiProxyName?: string;
  revision?: string;
  basePath?: string;
  target?: string;
}

/** The one proxy of a local mode; throws naming the missing flag or the bad target. */
export function localProxy(args: LocalProxyArgs, maxConnections: number): EdgeProxy {
  const missing = [
    ['-a (EDGEMICRO_API_PROXYNAME)', args.apiProxyName],
    ['-v (EDGEMICRO_API_REVISION)', args.revision],
    ['-b (EDGEMICRO_API_BASEPATH)', args.basePath],
    ['-t (EDGEMICRO_API_TARGET)', args.target],
  ]
    .filter(([, v]) => !v)
    .map(([n]) => n);
  if (missing.length) throw new Error(`local mode needs ${missing.join(', ')}`);
  let url: URL;
  try {
    url = new URL(args.target!);
  } catch {
    throw new Error(`-t: invalid target URL ${JSON.stringify(args.target)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`-t: target must be http:// or https://, got ${JSON.stringify(args.target)}`);
  if (!args.basePath!.startsWith('/'))
    throw new Error(`-b: base path must start with "/", got ${JSON.stringify(args.basePath)}`);
  return {
    name: args.apiProxyName!,
    revision: args.revision!,
    proxy_name: 'default',
    base_path: args.basePath!,
    target_name: 'default',
    url: args.target!,
    max_connections: maxConnections,
  };
}
