// Unit parsing for wrk and h2load output ("1.23ms", "4.56MB").

export function durationToMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) return NaN;
  const scale: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };
  return Number(m[1]) * scale[m[2]!]!;
}

/** wrk and h2load print binary multiples (1 KB = 1024 B). */
export function sizeToBytes(text: string): number {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text.trim());
  if (!m) return NaN;
  const scale: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
  return Number(m[1]) * scale[m[2]!]!;
}
