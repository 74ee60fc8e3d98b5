// The fields of a response set with node's "progressive" API (setHeader, appendHeader …), found by
// name in any case, each keeping the name as first spelled; and the checks every field of a head
// passes (a name that is not a token or a value with CR/LF would split the head).
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import { isFieldValue, isNamed, isToken } from '../../http1/head-scan.js';

function invalidChar(what: string, name: string): TypeError {
  return Object.assign(new TypeError(`Invalid character in ${what} ["${name}"]`), {
    code: what === 'header content' ? 'ERR_INVALID_CHAR' : 'ERR_INVALID_HTTP_TOKEN',
  });
}

// Names that passed the check: a process sets the same few names again and again (a constant's
// hash is kept with the string, so the lookup costs less than the check). Bounded.
const checkedNames = new Set<string>();

export function checkField(name: string, value: string): void {
  if (!checkedNames.has(name)) {
    if (!isToken(name)) throw invalidChar('header name', name);
    if (checkedNames.size < 512) checkedNames.add(name);
  }
  if (!isFieldValue(value)) throw invalidChar('header content', name);
}

export function checkStatusMessage(reason: string): void {
  if (/[\r\n]/.test(reason)) throw invalidChar('statusMessage', reason);
}

function checkValue(name: string, value: OutgoingHttpHeader): void {
  if (Array.isArray(value)) for (const v of value) checkField(name, String(v));
  else checkField(name, String(value));
}

/** One list, three entries per field (lower-cased name, name as first spelled, value), searched
 *  linearly: a response sets a few fields, and a Map with an entry object per field cost more to
 *  make than the searches it saves. */
export class ResponseFields {
  private readonly list: unknown[] = [];

  get size(): number {
    return this.list.length / 3;
  }

  /** Where the field `name` (any case) starts in the list, or -1. */
  private indexOf(name: string): number {
    const l = this.list;
    for (let i = 0; i < l.length; i += 3) if (isNamed(name, l[i] as string)) return i;
    return -1;
  }

  /** setHeader: replaces the field. */
  put(name: string, value: OutgoingHttpHeader): void {
    checkValue(name, value);
    const i = this.indexOf(name);
    if (i < 0) this.list.push(name.toLowerCase(), name, value);
    else {
      this.list[i + 1] = name;
      this.list[i + 2] = value;
    }
  }

  /** appendHeader: adds values to the field. */
  add(name: string, value: OutgoingHttpHeader): void {
    const i = this.indexOf(name);
    if (i < 0) return this.put(name, value);
    checkValue(name, value);
    const prev = this.list[i + 2] as OutgoingHttpHeader;
    const list = Array.isArray(prev) ? prev.slice() : [String(prev)];
    if (Array.isArray(value)) list.push(...value);
    else list.push(String(value));
    this.list[i + 2] = list;
  }

  /** A flat name, value list whose fields were checked: added after the set ones. */
  addChecked(flat: readonly string[]): void {
    for (let k = 0; k < flat.length; k += 2) {
      const name = flat[k]!;
      const i = this.indexOf(name);
      if (i < 0) this.list.push(name.toLowerCase(), name, flat[k + 1]!);
      else {
        const prev = this.list[i + 2] as OutgoingHttpHeader;
        this.list[i + 2] = [...(Array.isArray(prev) ? prev : [String(prev)]), flat[k + 1]!];
      }
    }
  }

  /** Remove the fields a flat list names (writeHead's fields override set ones of the same name). */
  removeNamed(flat: readonly string[]): void {
    for (let k = 0; k < flat.length; k += 2) {
      const i = this.indexOf(flat[k]!);
      if (i >= 0) this.list.splice(i, 3);
    }
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  remove(name: string): void {
    const i = this.indexOf(name);
    if (i >= 0) this.list.splice(i, 3);
  }

  value(name: string): OutgoingHttpHeader | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : (this.list[i + 2] as OutgoingHttpHeader);
  }

  /** Lower-cased names. */
  keyList(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.list.length; i += 3) out.push(this.list[i] as string);
    return out;
  }

  toObject(): OutgoingHttpHeaders {
    const o: OutgoingHttpHeaders = Object.create(null) as OutgoingHttpHeaders;
    for (let i = 0; i < this.list.length; i += 3)
      o[this.list[i] as string] = this.list[i + 2] as OutgoingHttpHeader;
    return o;
  }

  rawNames(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.list.length; i += 3) out.push(this.list[i + 1] as string);
    return out;
  }

  /** The fields as a flat list of strings, for the head. */
  appendTo(out: string[]): void {
    const l = this.list;
    for (let i = 0; i < l.length; i += 3) {
      const name = l[i + 1] as string;
      const v = l[i + 2] as OutgoingHttpHeader;
      if (Array.isArray(v)) for (const x of v) out.push(name, String(x));
      else out.push(name, typeof v === 'string' ? v : String(v));
    }
  }
}
