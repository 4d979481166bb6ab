/**
 * bench/results.svg, hand-written (no plotting dependency): left, webhook → settled latency (p50, p99) over the offered
 * rate; right, the settlement rate over the rows in the tables, beside the two settlement baselines of the same run.
 */

export interface LatencyPoint {
  rate: number;
  p50: number;
  p99: number;
  unsettled: number;
}

export interface SettlePoint {
  rows: number;
  perS: number;
}

export interface PlotData {
  latency: LatencyPoint[];
  settle: SettlePoint[];
  baselinePerS: number;
  limitPerS: number;
  title: string;
}

const W = 420;
const H = 300;
const M = { left: 56, right: 16, top: 34, bottom: 44 };
const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil((value * 1.1) / step) * step;
}

interface Series {
  name: string;
  colour: string;
  points: Array<[number, number]>;
  dashed?: boolean;
}

function panel(
  x0: number,
  title: string,
  xLabel: string,
  yLabel: string,
  xs: number[],
  xFormat: (x: number) => string,
  series: Series[],
  logY = false,
): string {
  const innerW = W - M.left - M.right;
  const innerH = H - M.top - M.bottom;
  const ys = series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => Number.isFinite(y));
  const yMax = niceMax(Math.max(...ys));
  const yMin = logY ? Math.max(0.1, 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...ys))))) : 0;
  const scaleY = (y: number) =>
    logY
      ? M.top +
        innerH -
        ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * innerH
      : M.top + innerH - (y / yMax) * innerH;
  const slot = (k: number) =>
    M.left + (xs.length === 1 ? innerW / 2 : (k / (xs.length - 1)) * innerW * 0.9 + innerW * 0.05);
  const scaleX = (x: number) => slot(xs.indexOf(x));
  const out: string[] = [`<g transform="translate(${x0},0)">`];
  out.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
  out.push(`<rect x="${M.left}" y="${M.top}" width="${innerW}" height="${innerH}" fill="none" stroke="#999"/>`);
  const ticks = logY
    ? Array.from({ length: Math.round(Math.log10(yMax / yMin)) + 1 }, (_, k) => yMin * 10 ** k).filter((t) => t <= yMax)
    : [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  for (const t of ticks) {
    const y = scaleY(t);
    out.push(`<line x1="${M.left}" x2="${M.left + innerW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 4}" y="${(y + 4).toFixed(1)}" text-anchor="end">${t.toLocaleString('en-US')}</text>`);
  }
  xs.forEach((x, k) =>
    out.push(`<text x="${slot(k)}" y="${M.top + innerH + 16}" text-anchor="middle">${esc(xFormat(x))}</text>`),
  );
  out.push(`<text x="${M.left + innerW / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(
    `<text transform="translate(14,${M.top + innerH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  series.forEach((s, k) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    const path = pts.map(([x, y]) => `${scaleX(x).toFixed(1)},${scaleY(y).toFixed(1)}`).join(' ');
    out.push(
      `<polyline points="${path}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ''}/>`,
    );
    for (const [x, y] of pts)
      out.push(`<circle cx="${scaleX(x).toFixed(1)}" cy="${scaleY(y).toFixed(1)}" r="3" fill="${s.colour}"/>`);
    const ly = M.top + 12 + k * 14;
    out.push(
      `<line x1="${M.left + 8}" x2="${M.left + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2"/>`,
    );
    out.push(`<text x="${M.left + 28}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

export function renderSvg(data: PlotData): string {
  const rates = data.latency.map((p) => p.rate);
  const latency = panel(
    0,
    'webhook sent → invoice settled',
    'offered webhooks per second',
    'latency, ms (log)',
    rates,
    (x) => `${x}/s`,
    [
      { name: 'p99', colour: '#c0392b', points: data.latency.map((p) => [p.rate, p.p99]) },
      { name: 'p50', colour: '#2471a3', points: data.latency.map((p) => [p.rate, p.p50]) },
      { name: 'target p99 50 ms', colour: '#888', dashed: true, points: rates.map((r) => [r, 50]) },
    ],
    true,
  );
  const rows = data.settle.map((p) => p.rows);
  const settle = panel(
    W,
    'settlement rate over table size',
    'ledger rows already in the tables',
    'events settled per second',
    rows,
    (x) => (x >= 1e6 ? `${x / 1e6}M` : x >= 1e3 ? `${x / 1e3}k` : String(x)),
    [
      { name: 'worker', colour: '#1e8449', points: data.settle.map((p) => [p.rows, p.perS]) },
      {
        name: 'per-event plain pg (empty db)',
        colour: '#888',
        dashed: true,
        points: rows.map((r) => [r, data.baselinePerS]),
      },
      {
        name: 'batched SQL limit (empty db)',
        colour: '#7d3c98',
        dashed: true,
        points: rows.map((r) => [r, data.limitPerS]),
      },
    ],
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 20}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    latency,
    settle,
    `<text x="${W}" y="${H + 14}" text-anchor="middle" fill="#555">${esc(data.title)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
