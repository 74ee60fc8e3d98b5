// nginx's value syntaxes: times (`60`, `60s`, `1m`, `1h30m`, `500ms`) and sizes (`1m`, `10M`, `1000G`).

const TIME_UNITS: ReadonlyArray<[string, number]> = [
  ['y', 365 * 24 * 3600_000],
  ['M', 30 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/**
 * A time in milliseconds (ngx_parse_time with seconds as the unit of a bare number): number+unit
 * parts in decreasing unit order, e.g. `1h30m`; a bare number is seconds. Undefined if invalid.
 */
export function parseTime(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const re = /(\d+)(ms|[yMwdhms])/y;
  let total = 0;
  let lastRank = -1;
  let i = 0;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    const rank = TIME_UNITS.findIndex(([u]) => u === m[2]);
    if (rank <= lastRank) return undefined; // units must strictly decrease, as nginx requires
    lastRank = rank;
    total += Number(m[1]) * TIME_UNITS[rank]![1];
    i = re.lastIndex;
  }
  return i === 0 || !Number.isSafeInteger(total) ? undefined : total;
}

/** A size in bytes (ngx_parse_offset): digits with an optional k/K, m/M, g/G suffix. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)([kKmMgG]?)$/.exec(text);
  if (!m) return undefined;
  const factor = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * factor;
  return Number.isSafeInteger(n) ? n : undefined;
}
