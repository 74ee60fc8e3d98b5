/**
 * The single truth rule of the template language, shared by `#if_tag` conditions and
 * `boolean_expression[…]` operands: a value is false iff, once surrounding spaces and tabs are
 * trimmed, it is empty or exactly `0`. Everything else (`1`, `x`, `00`, `0.0.0.0:5000`) is true.
 *
 * The Rust module disagrees in two places (see docs/template.md): it treated any `#if_tag` value
 * *starting* with `0` as false, and dropped one-character operands other than `0`.
 */
export function isTruthy(value: string): boolean {
  let start = 0;
  let end = value.length;
  while (start < end && isBlank(value.charCodeAt(start))) start++;
  while (end > start && isBlank(value.charCodeAt(end - 1))) end--;
  if (start === end) return false;
  return !(end - start === 1 && value.charCodeAt(start) === 0x30);
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
