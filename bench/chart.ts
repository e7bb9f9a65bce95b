import { type BenchResults, fmtN } from "./report.ts";

/**
 * p50 latency against N as a hand-written SVG: N on a log axis, p50 on a log axis (the operations
 * span two orders of magnitude), one line per operation and engine — colour per operation, solid for
 * SQLite, dashed for PostgreSQL — and a legend.
 */
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

export function latencyChart(results: BenchResults): string {
  const series: { label: string; colour: string; dashed: boolean; points: [number, number][] }[] = [];
  const opIds: string[] = [];
  for (const engine of results.engines) {
    const byOp = new Map<string, { label: string; points: [number, number][] }>();
    for (const size of engine.sizes) {
      for (const op of size.ops) {
        if (!(op.p50Ms > 0)) continue;
        if (!opIds.includes(op.id)) opIds.push(op.id);
        const s = byOp.get(op.id) ?? { label: op.label, points: [] };
        s.points.push([size.n, op.p50Ms]);
        byOp.set(op.id, s);
      }
    }
    for (const [id, s] of byOp) {
      series.push({
        label: `${s.label} — ${engine.engine}`,
        colour: COLOURS[opIds.indexOf(id) % COLOURS.length] as string,
        dashed: engine.engine === "postgres",
        points: s.points.sort((a, b) => a[0] - b[0]),
      });
    }
  }
  const all = series.flatMap((s) => s.points);
  const width = 1000;
  const legendWidth = 340;
  const height = Math.max(460, 90 + series.length * 18);
  const m = { left: 70, right: legendWidth + 20, top: 40, bottom: 60 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${m.left}" y="22" font-size="15" font-weight="bold">tagd: p50 latency against N (concurrency ${results.settings.concurrency})</text>`,
  ];
  if (all.length === 0) {
    out.push(`<text x="${m.left}" y="${m.top + 40}">no measurements</text></svg>`);
    return out.join("\n");
  }
  const ns = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let [nLo, nHi] = [Math.min(...ns), Math.max(...ns)];
  if (nLo === nHi) [nLo, nHi] = [nLo / 3, nHi * 3];
  const [yLo, yHi] = [
    10 ** Math.floor(Math.log10(Math.min(...ys))),
    10 ** Math.ceil(Math.log10(Math.max(...ys) * 1.05)),
  ];
  const lx0 = Math.log10(nLo) - 0.15;
  const lx1 = Math.log10(nHi) + 0.15;
  const x = (n: number) => m.left + ((Math.log10(n) - lx0) / (lx1 - lx0)) * plotW;
  const y = (v: number) =>
    m.top + plotH - ((Math.log10(v) - Math.log10(yLo)) / Math.log10(yHi / yLo)) * plotH;

  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  for (const v of ticks(yLo, yHi)) {
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${v}</text>`);
  }
  for (const n of [...new Set(ns)].sort((a, b) => a - b)) {
    const xx = x(n).toFixed(1);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${m.top}" y2="${m.top + plotH}" stroke="#ddd"/>`);
    out.push(`<text x="${xx}" y="${m.top + plotH + 18}" text-anchor="middle">${fmtN(n)}</text>`);
  }
  out.push(
    `<text x="${m.left + plotW / 2}" y="${height - 18}" text-anchor="middle">N (resources, log scale)</text>`,
    `<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">p50 latency, ms (log scale)</text>`,
  );
  series.forEach((s, i) => {
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
    const pts = s.points.map(([n, v]) => `${x(n).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.colour}" stroke-width="2"${dash}/>`);
    for (const [n, v] of s.points) {
      out.push(`<circle cx="${x(n).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${s.colour}"/>`);
    }
    const ly = m.top + 10 + i * 18;
    const lx = width - legendWidth;
    out.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 32}" y="${ly}" dominant-baseline="middle">${escapeXml(s.label)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
