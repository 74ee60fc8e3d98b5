/** One measured load window, as the load generator saw it. */
export interface LoadResult {
  requests: number;
  seconds: number;
  /** Response bytes read per second (headers included for wrk; body for h2load). */
  bytesPerSecond: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Socket errors + non-2xx/3xx responses + failed streams. */
  errors: number;
  /** For the idle-connection scenario: connections held open. */
  openConnections?: number;
}
