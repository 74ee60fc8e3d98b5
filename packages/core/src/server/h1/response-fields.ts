// The fields of a response set with node's "progressive" API (setHeader, appendHeader …), keyed by
// lower-cased name, each keeping the name as first spelled; and the checks every field of a head
// passes (a name that is not a token or a value with CR/LF would split the head).
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import { isFieldValue, isToken } from '../../http1/head-scan.js';

interface Entry {
  name: string;
  value: OutgoingHttpHeader;
}

/** `name` is `lower` in any ASCII case (same length). */
function equalsLower(name: string, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    let c = name.charCodeAt(k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}

function invalidChar(what: string, name: string): TypeError {
  return Object.assign(new TypeError(`Invalid character in ${what} ["${name}"]`), {
    code: what === 'header content' ? 'ERR_INVALID_CHAR' : 'ERR_INVALID_HTTP_TOKEN',
  });
}

export function checkField(name: string, value: string): void {
  if (!isToken(name)) throw invalidChar('header name', name);
  if (!isFieldValue(value)) throw invalidChar('header content', name);
}

export function checkStatusMessage(reason: string): void {
  if (/[\r\n]/.test(reason)) throw invalidChar('statusMessage', reason);
}

function checkValue(name: string, value: OutgoingHttpHeader): void {
  if (Array.isArray(value)) for (const v of value) checkField(name, String(v));
  else checkField(name, String(value));
}

/** A Map itself (no wrapper object per response). */
export class ResponseFields extends Map<string, Entry> {
  /** setHeader: replaces the field. */
  put(name: string, value: OutgoingHttpHeader): void {
    checkValue(name, value);
    this.set(name.toLowerCase(), { name, value });
  }

  /** appendHeader: adds values to the field. */
  add(name: string, value: OutgoingHttpHeader): void {
    const prev = this.get(name.toLowerCase());
    if (prev === undefined) return this.put(name, value);
    checkValue(name, value);
    const list = Array.isArray(prev.value) ? prev.value.slice() : [String(prev.value)];
    if (Array.isArray(value)) list.push(...value);
    else list.push(String(value));
    prev.value = list;
  }

  /** A flat name, value list whose fields were checked: added after the set ones. */
  addChecked(flat: readonly string[]): void {
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i]!;
      const key = name.toLowerCase();
      const prev = this.get(key);
      if (prev === undefined) this.set(key, { name, value: flat[i + 1]! });
      else prev.value = [...(Array.isArray(prev.value) ? prev.value : [String(prev.value)]), flat[i + 1]!];
    }
  }

  /** Remove the fields a flat list names (writeHead's fields override set ones of the same name).
   *  The set names are few: each is compared with the list's, without a lower-case copy of those. */
  removeNamed(flat: readonly string[]): void {
    for (const key of this.keys())
      for (let i = 0; i < flat.length; i += 2)
        if (flat[i]!.length === key.length && equalsLower(flat[i]!, key)) {
          this.delete(key);
          break;
        }
  }

  value(name: string): OutgoingHttpHeader | undefined {
    return this.get(name.toLowerCase())?.value;
  }

  toObject(): OutgoingHttpHeaders {
    const o: OutgoingHttpHeaders = Object.create(null) as OutgoingHttpHeaders;
    for (const [k, e] of this) o[k] = e.value;
    return o;
  }

  rawNames(): string[] {
    return [...this.values()].map((e) => e.name);
  }

  /** The fields as a flat list of strings, for the head. */
  appendTo(list: string[]): void {
    for (const e of this.values()) {
      if (Array.isArray(e.value)) for (const v of e.value) list.push(e.name, String(v));
      else list.push(e.name, String(e.value));
    }
  }
}
