// A strict, incremental decoder of the chunked transfer coding (RFC 9112 §7.1). Chunk data is
// handed on as views of the input (no copy). Refused, as llhttp refuses them without lenient flags:
// a size that is not hex, whitespace after it, a bare CR or LF, data longer than its size, a
// control character in an extension, an invalid trailer field.
import { checkHeadText, HttpParseError, parseFieldLines } from './syntax.js';

const enum State {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailer,
  TrailerLf,
  Done,
}

const enum Ext {
  NameStart,
  Name,
  ValueStart,
  Value,
  Quoted,
  QuotedPair,
  AfterQuoted,
}

/** tchar (RFC 9110 §5.6.2). */
const TOKEN_BYTE = new Uint8Array(256);
for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TOKEN_BYTE[ch.charCodeAt(0)] = 1;
const isTokenByte = (c: number): boolean => TOKEN_BYTE[c] === 1;
/** qdtext (RFC 9110 §5.6.4): HTAB, SP, VCHAR but DQUOTE and backslash, obs-text. */
const isQuotedTextByte = (c: number): boolean =>
  c === 0x09 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x7e && c !== 0x5c) || c >= 0x80;

const CR = 0x0d;
const LF = 0x0a;
/** 2^53: a chunk size beyond it cannot be counted exactly (llhttp allows up to 2^64). */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;
const MAX_SIZE_DIGITS = 64;
/** Extensions are skipped, not kept; this only bounds the work spent on one. */
const MAX_EXTENSION = 4096;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

export class ChunkedDecoder {
  private state = State.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private extension = 0;
  private ext = Ext.NameStart;
  private trailerText = '';
  private trailerLineStart = 0;
  /** The trailer fields, once the body is complete (null: none). */
  trailers: string[] | null = null;

  constructor(private readonly maxTrailerSize: number) {}

  get done(): boolean {
    return this.state === State.Done;
  }

  /**
   * Decode `data` from `start`. Chunk data goes to `onData` as views of `data`. Returns the offset
   * just past the end of the body once it is complete (bytes after it are not consumed), else
   * `data.length`, or the error.
   */
  execute(data: Buffer, start: number, onData: (chunk: Buffer) => void): number | HttpParseError {
    let i = start;
    const n = data.length;
    while (i < n) {
      switch (this.state) {
        case State.Data: {
          const take = Math.min(this.remaining, n - i);
          this.remaining -= take;
          onData(data.subarray(i, i + take));
          i += take;
          if (this.remaining === 0) this.state = State.DataCr;
          break;
        }
        case State.Size: {
          const c = data[i]!;
          const v = hexValue(c);
          if (v >= 0) {
            this.size = this.size * 16 + v;
            // Leading zeros are allowed (as llhttp does), within reason.
            if (++this.digits > MAX_SIZE_DIGITS || this.size > MAX_SIZE)
              return new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'chunk size too large');
          } else if (this.digits > 0 && c === 0x3b /* ; */) {
            this.state = State.Extension;
            this.ext = Ext.NameStart;
            this.extension = 0;
          } else if (this.digits > 0 && c === CR) this.state = State.SizeLf;
          else return new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'invalid character in a chunk size');
          i++;
          break;
        }
        case State.Extension: {
          const c = data[i]!;
          if (++this.extension > MAX_EXTENSION || !this.extensionByte(c))
            return new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'invalid chunk extension');
          i++;
          break;
        }
        case State.SizeLf: {
          if (data[i] !== LF) return new HttpParseError('HPE_STRICT', 'expected LF after a chunk size');
          i++;
          if (this.size === 0) {
            this.state = State.Trailer;
            this.trailerText = '';
            this.trailerLineStart = 0;
          } else {
            this.remaining = this.size;
            this.state = State.Data;
          }
          this.size = 0;
          this.digits = 0;
          break;
        }
        case State.DataCr:
          if (data[i] !== CR)
            return new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'chunk data longer than its size');
          this.state = State.DataLf;
          i++;
          break;
        case State.DataLf:
          if (data[i] !== LF) return new HttpParseError('HPE_STRICT', 'expected LF after chunk data');
          this.state = State.Size;
          i++;
          break;
        case State.Trailer: {
          // Trailer lines are rare and short: collect their text until the empty line.
          const cr = data.indexOf(CR, i);
          const end = cr === -1 ? n : cr;
          const lf = data.indexOf(LF, i);
          if (lf !== -1 && lf < end) return new HttpParseError('HPE_STRICT', 'bare LF in a trailer');
          this.trailerText += data.toString('latin1', i, end);
          if (this.trailerText.length > this.maxTrailerSize)
            return new HttpParseError('HPE_HEADER_OVERFLOW', 'trailer section too large');
          i = end;
          if (cr !== -1) {
            this.state = State.TrailerLf;
            i++;
          }
          break;
        }
        case State.TrailerLf: {
          if (data[i] !== LF) return new HttpParseError('HPE_STRICT', 'bare CR in a trailer');
          i++;
          if (this.trailerText.length === this.trailerLineStart) {
            // The empty line: the body is complete.
            const err = this.finishTrailers();
            if (err) return err;
            this.state = State.Done;
            return i;
          }
          this.trailerText += '\r\n';
          this.trailerLineStart = this.trailerText.length;
          this.state = State.Trailer;
          break;
        }
        case State.Done:
          return i;
      }
    }
    return n;
  }

  /**
   * One byte of `*( ";" ext-name [ "=" ext-value ] )` (ext-name a token, ext-value a token or a
   * quoted-string); CR ends it. False: the byte is not allowed here.
   */
  private extensionByte(c: number): boolean {
    switch (this.ext) {
      case Ext.NameStart:
      case Ext.ValueStart:
        if (this.ext === Ext.ValueStart && c === 0x22 /* " */) {
          this.ext = Ext.Quoted;
          return true;
        }
        if (!isTokenByte(c)) return false;
        this.ext = this.ext === Ext.NameStart ? Ext.Name : Ext.Value;
        return true;
      case Ext.Name:
      case Ext.Value:
      case Ext.AfterQuoted:
        if (c === CR) this.state = State.SizeLf;
        else if (c === 0x3b /* ; */) this.ext = Ext.NameStart;
        else if (c === 0x3d /* = */ && this.ext === Ext.Name) this.ext = Ext.ValueStart;
        else if (this.ext === Ext.AfterQuoted || !isTokenByte(c)) return false;
        return true;
      case Ext.Quoted:
        if (c === 0x22) this.ext = Ext.AfterQuoted;
        else if (c === 0x5c /* \ */) this.ext = Ext.QuotedPair;
        else if (!isQuotedTextByte(c)) return false;
        return true;
      case Ext.QuotedPair:
        if (!isQuotedTextByte(c) && c !== 0x22 && c !== 0x5c) return false;
        this.ext = Ext.Quoted;
        return true;
    }
  }

  private finishTrailers(): HttpParseError | undefined {
    const text = this.trailerText;
    this.trailerText = '';
    if (text.length === 0) return undefined;
    const fields: string[] = [];
    const body = text.slice(0, -2);
    const err = checkHeadText(body) ?? parseFieldLines(body, 0, fields);
    if (err) return err;
    this.trailers = fields;
    return undefined;
  }
}
