// URL escaping exactly as nginx's ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT), which $ssl_client_escaped_cert uses.
// The bitmap is nginx's: everything is escaped except ALPHA, DIGIT and - . _ ~ ! ' ( ) *  (its bits say so,
// whatever its comment says). Hex digits are upper case. Non-ASCII bytes are escaped byte by byte.

// One bit per byte value, 8 words of 32 bits, as in nginx.
const URI_COMPONENT = new Uint32Array([
  0xffffffff, // 0x00-0x1f: control characters
  0xfc00987d, // 0x20-0x3f: space " # $ % & + , / : ; < = > ?
  0x78000001, // 0x40-0x5f: @ [ \ ] ^
  0xb8000001, // 0x60-0x7f: ` { | } DEL
  0xffffffff,
  0xffffffff,
  0xffffffff,
  0xffffffff,
]);

const HEX = '0123456789ABCDEF';

function mustEscape(byte: number): boolean {
  return (URI_COMPONENT[byte >> 5]! & (1 << (byte & 0x1f))) !== 0;
}

/** nginx `ngx_escape_uri(..., NGX_ESCAPE_URI_COMPONENT)` of the UTF-8 bytes of `input`. */
export function escapeUriComponentNginx(input: string | Buffer): string {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let out = '';
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (!mustEscape(b)) continue;
    if (i > start) out += bytes.toString('latin1', start, i);
    out += '%' + HEX[b >> 4] + HEX[b & 0xf];
    start = i + 1;
  }
  if (start < bytes.length) out += bytes.toString('latin1', start);
  return out;
}
