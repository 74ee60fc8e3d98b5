// A configuration error with nginx's wording and a precise position, thrown by parse and compile.

export class NginxConfigError extends Error {
  readonly code = 'nginx_config_error';
  constructor(
    /** The bare reason, e.g. `unexpected "}"`, without the position. */
    readonly reason: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} in ${file}:${line}:${column}`);
    this.name = 'NginxConfigError';
  }
}

/** Anything that carries a position: a directive or an argument. */
export interface Positioned {
  line: number;
  column: number;
}
