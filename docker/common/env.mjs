// Strict readers for the environment variables the entrypoints accept. Each returns a value or
// throws an EntrypointError whose message names the variable and what was expected.

export class EntrypointError extends Error {
  constructor(message) {
    super(message);
    this.name = 'EntrypointError';
  }
}

/** The value of `name` when set and not empty, else undefined. */
export function optional(env, name) {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** An integer in [min, max] written in decimal digits only. */
export function integer(env, name, min, max) {
  const value = optional(env, name);
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new EntrypointError(
      `${name} must be a whole number from ${min} to ${max}, got "${printable(value)}"`,
    );
  }
  return Number(value);
}

export function port(env, name) {
  return integer(env, name, 1, 65535);
}

const BASE64_ALPHABET = /^[A-Za-z0-9+/]*$/;

/**
 * Decodes standard base64 (RFC 4648 §4) as `base64` writes it: line breaks and other white space
 * are ignored, padding is optional, anything else is an error with its offset. Node's own decoder
 * skips bad characters silently, which is how a truncated or mangled config started as if valid.
 */
export function base64(name, text) {
  const compact = text.replace(/\s+/g, '');
  const unpadded = compact.replace(/={1,2}$/, '');
  if (!BASE64_ALPHABET.test(unpadded)) {
    const at = unpadded.search(/[^A-Za-z0-9+/]/);
    throw new EntrypointError(
      `${name} is not valid base64: character "${printable(unpadded[at])}" at offset ${at} (of the value without white space)`,
    );
  }
  if (unpadded.length % 4 === 1 || (compact.length !== unpadded.length && compact.length % 4 !== 0)) {
    throw new EntrypointError(
      `${name} is not valid base64: its length (${compact.length} characters) is truncated`,
    );
  }
  if (unpadded.length === 0) throw new EntrypointError(`${name} is empty after base64 decoding`);
  return Buffer.from(unpadded, 'base64');
}

/** A short, single-line, control-free rendering of untrusted text for an error message. */
export function printable(text) {
  const clean = String(text).replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}
