// Heads are written straight into the buffer that carries them, from the strings they are made of:
// no string is concatenated, so none is flattened on its way to the socket.

/** Write `text` (latin1: one byte per character) into `buf` at `at`; returns where it ends. Short
 *  strings are copied here, which is cheaper than a call into the binding. */
export function putLatin1(buf: Buffer, at: number, text: string): number {
  const n = text.length;
  if (n > 64) return at + buf.write(text, at, 'latin1');
  for (let k = 0; k < n; k++) buf[at + k] = text.charCodeAt(k);
  return at + n;
}

/** Write one field line, `name: value` CRLF; returns where it ends (name.length + value.length + 4 bytes). */
export function putField(buf: Buffer, at: number, name: string, value: string): number {
  at = putLatin1(buf, at, name);
  buf[at++] = 0x3a;
  buf[at++] = 0x20;
  at = putLatin1(buf, at, value);
  buf[at++] = 0x0d;
  buf[at++] = 0x0a;
  return at;
}
