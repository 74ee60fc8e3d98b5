// Map a line of the rendered configuration back to the template line it came from, so that an nginx
// error found after rendering names the line the operator wrote. Rendering removes whole blocks and
// never re-scans values, so we render a copy of the template in which every line is preceded by a
// marker comment line; the marker nearest above the rendered line names the template line.
import { renderTemplate, type RenderOptions } from '../template/index.js';

const MARKER = '#@gatehouse-line ';

/** 1-based template line for 1-based `renderedLine`, or undefined when it cannot be told. */
export function templateLineOf(
  template: string,
  options: RenderOptions,
  renderedLine: number,
): number | undefined {
  const lines = template.split(/(?<=\n)/);
  const marked = lines
    .map((line, i) => `${MARKER}${i + 1}${line.endsWith('\r\n') ? '\r\n' : '\n'}${line}`)
    .join('');
  let text: string;
  try {
    text = renderTemplate(marked, options).text;
  } catch {
    return undefined;
  }
  const rendered = text.split('\n');
  let original = 0; // rendered lines without markers seen so far
  let current: number | undefined;
  for (const raw of rendered) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith(MARKER)) {
      current = Number(line.slice(MARKER.length));
      continue;
    }
    original++;
    if (original === renderedLine) return current;
  }
  return undefined;
}
