// A hand-written SVG bar chart: for each scenario, one bar per system with its ratio to nginx on the
// scenario's primary figure, and a reference line at 1.0×.
import { PRIMARY_LABEL } from './format.js';
import type { Report } from './types.js';

const COLORS = ['#d9480f', '#2b8a3e', '#1971c2', '#7048e8', '#868e96', '#e8590c', '#0c8599'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function toSvg(rep: Report): string {
  const scenarios = rep.scenarios.filter((s) => !s.pending && s.results.some((r) => r.status === 'ok'));
  const systems = rep.systems;
  const barH = 14;
  const groupGap = 18;
  const left = 250;
  const width = 900;
  const plotW = width - left - 80;
  const top = 60;
  const groupH = systems.length * barH + groupGap;
  const height = top + scenarios.length * groupH + 50;
  let max = 1;
  for (const s of scenarios) for (const r of s.results) max = Math.max(max, r.ratio?.[s.primary] ?? 0);
  // Grid step that keeps about ten labels whatever the largest ratio is.
  const step = max <= 2.5 ? 0.25 : max <= 5 ? 0.5 : max <= 10 ? 1 : Math.ceil(max / 10);
  max = Math.ceil(max / step) * step;
  const x = (v: number): number => left + (v / max) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">Ratio to nginx (${esc(rep.mode)} run, ${esc(rep.date)})</text>`,
  ];
  // Legend.
  systems.forEach((sys, i) => {
    const lx = left + i * 120;
    parts.push(`<rect x="${lx}" y="32" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    parts.push(`<text x="${lx + 14}" y="41">${esc(sys)}</text>`);
  });
  for (let v = 0; v <= max + 1e-9; v += step) {
    const gx = x(v).toFixed(1);
    parts.push(
      `<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${height - 40}" stroke="${v === 1 ? '#000' : '#e9ecef'}" stroke-width="${v === 1 ? 1.5 : 1}"/>`,
    );
    parts.push(
      `<text x="${gx}" y="${height - 26}" text-anchor="middle" fill="#495057">${v.toFixed(2)}×</text>`,
    );
  }
  scenarios.forEach((s, gi) => {
    const gy = top + gi * groupH;
    parts.push(
      `<text x="${left - 8}" y="${gy + (systems.length * barH) / 2}" text-anchor="end" font-weight="bold">${esc(s.name)}</text>`,
    );
    parts.push(
      `<text x="${left - 8}" y="${gy + (systems.length * barH) / 2 + 12}" text-anchor="end" fill="#868e96">${esc(PRIMARY_LABEL[s.primary])}</text>`,
    );
    systems.forEach((sys, si) => {
      const r = s.results.find((x) => x.system === sys);
      const y = gy + si * barH;
      const v = r?.status === 'ok' ? r.ratio?.[s.primary] : undefined;
      if (v === undefined || !Number.isFinite(v)) {
        if (r) parts.push(`<text x="${left + 4}" y="${y + barH - 4}" fill="#adb5bd">${esc(r.status)}</text>`);
        return;
      }
      parts.push(
        `<rect class="bar" x="${left}" y="${y + 1}" width="${(x(v) - left).toFixed(1)}" height="${barH - 2}" fill="${COLORS[si % COLORS.length]}"/>`,
      );
      parts.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${y + barH - 4}">${v.toFixed(2)}×</text>`);
    });
  });
  parts.push(
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" fill="#495057">bars: each system's primary figure ÷ nginx's in the same scenario (RSS: lower is better)</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
