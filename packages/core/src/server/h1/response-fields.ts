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

/** Lists side by side, searched linearly: a response sets a few fields, and a Map with an entry
 *  object per field cost more to make than the searches it saves. */
export class ResponseFields {
  /** Lower-cased names. */
  private readonly keys: string[] = [];
  /** Names as first spelled. */
  private readonly names: string[] = [];
  private readonly values: OutgoingHttpHeader[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Where the field `name` (any case) is, or -1. */
  private indexOf(name: string): number {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (isNamed(name, keys[i]!)) return i;
    return -1;
  }

  private append(name: string, value: OutgoingHttpHeader): void {
    this.keys.push(name.toLowerCase());
    this.names.push(name);
    this.values.push(value);
  }

  /** setHeader: replaces the field. */
  put(name: string, value: OutgoingHttpHeader): void {
    checkValue(name, value);
    const i = this.indexOf(name);
    if (i < 0) return this.append(name, value);
    this.names[i] = name;
    this.values[i] = value;
  }

  /** appendHeader: adds values to the field. */
  add(name: string, value: OutgoingHttpHeader): void {
    const i = this.indexOf(name);
    if (i < 0) return this.put(name, value);
    checkValue(name, value);
    const prev = this.values[i]!;
    const list = Array.isArray(prev) ? prev.slice() : [String(prev)];
    if (Array.isArray(value)) list.push(...value);
    else list.push(String(value));
    this.values[i] = list;
  }

  /** A flat name, value list whose fields were checked: added after the set ones. */
  addChecked(flat: readonly string[]): void {
    for (let k = 0; k < flat.length; k += 2) {
      const name = flat[k]!;
      const i = this.indexOf(name);
      if (i < 0) this.append(name, flat[k + 1]!);
      else {
        const prev = this.values[i]!;
        this.values[i] = [...(Array.isArray(prev) ? prev : [String(prev)]), flat[k + 1]!];
      }
    }
  }

  /** Remove the fields a flat list names (writeHead's fields override set ones of the same name). */
  removeNamed(flat: readonly string[]): void {
    for (let k = 0; k < flat.length; k += 2) {
      const i = this.indexOf(flat[k]!);
      if (i >= 0) this.removeAt(i);
    }
  }

  private removeAt(i: number): void {
    this.keys.splice(i, 1);
    this.names.splice(i, 1);
    this.values.splice(i, 1);
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  remove(name: string): void {
    const i = this.indexOf(name);
    if (i >= 0) this.removeAt(i);
  }

  value(name: string): OutgoingHttpHeader | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.values[i];
  }

  /** Lower-cased names. */
  keyList(): string[] {
    return this.keys.slice();
  }

  toObject(): OutgoingHttpHeaders {
    const o: OutgoingHttpHeaders = Object.create(null) as OutgoingHttpHeaders;
    for (let i = 0; i < this.keys.length; i++) o[this.keys[i]!] = this.values[i];
    return o;
  }

  rawNames(): string[] {
    return this.names.slice();
  }

  /** The fields as a flat list of strings, for the head. */
  appendTo(list: string[]): void {
    for (let i = 0; i < this.keys.length; i++) {
      const name = this.names[i]!;
      const v = this.values[i]!;
      if (Array.isArray(v)) for (const x of v) list.push(name, String(x));
      else list.push(name, typeof v === 'string' ? v : String(v));
    }
  }
}
