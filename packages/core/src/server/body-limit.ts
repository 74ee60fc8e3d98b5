// A body of unknown length (chunked, HTTP/2) is counted while it streams and stopped at the limit;
// a Content-Length over the limit is refused before reading (in the request handler).
import { Transform, type TransformCallback } from 'node:stream';
import { ProxyError } from '../errors/codes.js';
import { withErrorPath } from '../util/error-path.js';
import type { SizeLimitedBody } from '../upstream/body-buffer.js';

export class BodyLimit extends Transform implements SizeLimitedBody {
  private seen = 0;
  constructor(
    /** The effective max body size it enforces (read by request-body buffering). */
    readonly limit: number,
    /** Answer the client (413) if it can still be answered. */
    private readonly exceeded: () => void,
  ) {
    super();
    withErrorPath(this);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      this.exceeded();
      return cb(new ProxyError('payload_too_large'));
    }
    cb(null, chunk);
  }
}
