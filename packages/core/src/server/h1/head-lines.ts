// The lines a response head gets from the engine rather than from its fields, made once and reused:
// the status line, Date (once a second) and the Connection lines of a kept-alive response.
import { reasonPhrase } from '../../http1/reason-phrases.js';

let dateSecond = -1;
let dateLine = '';
/** The Date field line, formatted once a second. */
export function httpDateLine(): string {
  const now = Date.now();
  const s = (now / 1000) | 0;
  if (s !== dateSecond) {
    dateSecond = s;
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

/** Status lines with their standard reason phrase, made once per status. */
const STATUS_LINES: string[] = [];
export function statusLine(status: number, reason: string): string {
  const standard = reasonPhrase(status);
  if (reason !== '' && reason !== standard) return `HTTP/1.1 ${status} ${reason}\r\n`;
  return (STATUS_LINES[status] ??= `HTTP/1.1 ${status} ${standard}\r\n`);
}

let keepAliveSecondsSeen = -1;
let keepAliveLines = '';
/** The Connection lines of a kept-alive response (the same for every connection of a listener). */
export function keepAliveText(seconds: number): string {
  if (seconds !== keepAliveSecondsSeen) {
    keepAliveSecondsSeen = seconds;
    keepAliveLines =
      seconds > 0
        ? `Connection: keep-alive\r\nKeep-Alive: timeout=${seconds}\r\n`
        : 'Connection: keep-alive\r\n';
  }
  return keepAliveLines;
}
