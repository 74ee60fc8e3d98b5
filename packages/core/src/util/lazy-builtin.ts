// Node builtins loaded on first use instead of at start-up, for idle memory: a plain-HTTP
// `gatehouse serve` makes no TLS connection, certificate, DNS lookup or child process, yet importing
// the builtins for them cost it RSS (Node 20, each on top of what the proxy loads anyway: tls + crypto
// 1.1 MB, fs/promises 0.6, worker_threads 0.4, child_process 0.4, dns 0.3, os 0.2; child_process and
// dns are loaded by net's listen() in any case). Idle RSS of `serve` with a plain config went from
// 55.3 to 53.2 MiB. A static `import` evaluates a builtin when our module loads; a getter from here
// requires it synchronously the first time it is called, so the code using it stays synchronous.
// (process.getBuiltinModule would do the same, but only from Node 20.16.)
import { createRequire } from 'node:module';

/** The builtins that are loaded lazily, by the name they are required by. */
export interface LazyBuiltins {
  'node:child_process': typeof import('node:child_process');
  'node:crypto': typeof import('node:crypto');
  'node:dns': typeof import('node:dns');
  'node:fs/promises': typeof import('node:fs/promises');
  'node:os': typeof import('node:os');
  'node:tls': typeof import('node:tls');
  'node:worker_threads': typeof import('node:worker_threads');
}

const require = createRequire(import.meta.url);

/**
 * A getter of builtin `name`: the first call loads it, every call returns the module (the same object
 * `import x from 'node:…'` gives), typed. Type annotations keep using `import type` from the builtin.
 */
export function lazyBuiltin<N extends keyof LazyBuiltins>(name: N): () => LazyBuiltins[N] {
  let loaded: LazyBuiltins[N] | undefined;
  return () => (loaded ??= require(name) as LazyBuiltins[N]);
}
