/**
 * A self-contained SVG of the results: Parley/baseline ratios against the goals, absolute
 * throughput, server memory against connected clients (the slope), and broadcast p95 along the ramp.
 */
import { SERVER_LABELS, type ServerKind } from './protocol';
import type { BenchResults, Row } from './results';
import type { Spread } from './stats';

const WIDTH = 1000;
const COLORS: Record<ServerKind, string> = { ws: '#7f7f7f', baseline: '#1f77b4', durable: '#2ca02c', parley: '#d62728' };
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A round number at or above `max` (1, 2, 2.5 or 5 times a power of ten), for axis ends. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return ([1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * power >= max) ?? 10) * power;
}

const fmt = (n: number): string => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2));

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;
}

/** Horizontal bars on a log2 scale centred on 1.0 (same as baseline). */
function ratioPanel(rows: Row[], top: number): { svg: string; height: number } {
  const charted = rows.filter((r) => r.chart && r.ratio !== null);
  const rowH = 26;
  const height = 70 + Math.max(1, charted.length) * rowH;
  const left = 330;
  const right = WIDTH - 110;
  const span = 4; // 1/16x .. 16x
  const x = (r: number): number => left + ((Math.log2(Math.min(2 ** span, Math.max(2 ** -span, r))) + span) / (2 * span)) * (right - left);
  const parts: string[] = [
    text(20, top + 24, 'Parley ÷ baseline (log scale; 1.0 = same as the bare Socket.IO server)', 'font-size="16" font-weight="600"'),
  ];
  const axisY = top + 44;
  for (const t of [1 / 16, 1 / 4, 1 / 2, 1, 2, 4, 16]) {
    parts.push(`<line x1="${x(t)}" y1="${axisY}" x2="${x(t)}" y2="${top + height - 10}" stroke="#ddd"/>`);
    parts.push(text(x(t), axisY - 4, t < 1 ? `1/${1 / t}x` : `${t}x`, 'font-size="11" text-anchor="middle" fill="#666"'));
  }
  parts.push(`<line x1="${x(1)}" y1="${axisY}" x2="${x(1)}" y2="${top + height - 10}" stroke="#333" stroke-width="1.5"/>`);
  if (charted.length === 0) parts.push(text(left, axisY + 20, 'no ratio measured', 'font-size="12" fill="#666"'));
  charted.forEach((row, i) => {
    const chart = row.chart!;
    const r = row.ratio!;
    const y = axisY + 8 + i * rowH;
    const color = row.met === true ? '#2ca02c' : row.met === false ? '#d62728' : '#9467bd';
    const [a, b] = [x(1), x(r)].sort((p, q) => p - q) as [number, number];
    parts.push(
      text(left - 10, y + 14, `${chart.label} (${chart.lowerIsBetter ? 'lower' : 'higher'} better)`, 'font-size="12" text-anchor="end"'),
    );
    parts.push(`<rect x="${a}" y="${y + 3}" width="${Math.max(1, b - a)}" height="${rowH - 10}" fill="${color}" opacity="0.85"/>`);
    if (chart.goal !== undefined) {
      parts.push(`<line x1="${x(chart.goal)}" y1="${y}" x2="${x(chart.goal)}" y2="${y + rowH - 4}" stroke="#000" stroke-dasharray="3,2"/>`);
    }
    parts.push(text(Math.max(a, b) + 4, y + 14, `${r.toFixed(2)}x${row.goal ? `  (goal ${row.goal})` : ''}`, 'font-size="11"'));
  });
  return { svg: parts.join('\n'), height };
}

/** Grouped bars of absolute throughput with min-max whiskers. */
function throughputPanel(results: BenchResults, top: number): { svg: string; height: number } {
  const kinds = results.meta.kinds;
  const groups: { label: string; get: (k: ServerKind) => Spread | undefined }[] = [
    { label: 'direct messages/s', get: (k) => results.kinds[k]?.direct?.perSec },
    { label: 'broadcast deliveries/s', get: (k) => results.kinds[k]?.fanout?.perSec },
  ];
  const height = 250;
  const left = 90;
  const bottom = top + height - 40;
  const plotTop = top + 50;
  const max = niceMax(Math.max(1, ...groups.flatMap((g) => kinds.map((k) => g.get(k)?.max ?? 0)).filter(Number.isFinite)));
  const y = (v: number): number => bottom - (v / max) * (bottom - plotTop);
  const parts = [
    text(
      20,
      top + 24,
      `Throughput at ${results.meta.sizes.clients.toLocaleString('en-US')} clients (median, whiskers min–max)`,
      'font-size="16" font-weight="600"',
    ),
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    parts.push(`<line x1="${left}" y1="${y(v)}" x2="${WIDTH - 20}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(text(left - 6, y(v) + 4, fmt(v), 'font-size="11" text-anchor="end" fill="#666"'));
  }
  const groupW = (WIDTH - left - 40) / groups.length;
  const barW = Math.min(70, (groupW - 40) / Math.max(1, kinds.length));
  groups.forEach((g, gi) => {
    const gx = left + 20 + gi * groupW;
    kinds.forEach((k, ki) => {
      const s = g.get(k);
      const bx = gx + ki * (barW + 8);
      if (!s || !Number.isFinite(s.median)) return;
      parts.push(
        `<rect x="${bx}" y="${y(s.median)}" width="${barW}" height="${bottom - y(s.median)}" fill="${COLORS[k]}" opacity="0.85"/>`,
      );
      parts.push(`<line x1="${bx + barW / 2}" y1="${y(s.min)}" x2="${bx + barW / 2}" y2="${y(s.max)}" stroke="#000"/>`);
      parts.push(text(bx + barW / 2, y(s.max) - 5, fmt(s.median), 'font-size="11" text-anchor="middle"'));
      parts.push(text(bx + barW / 2, bottom + 14, SERVER_LABELS[k], 'font-size="10" text-anchor="middle"'));
    });
    parts.push(text(gx + (kinds.length * (barW + 8)) / 2, bottom + 32, g.label, 'font-size="12" text-anchor="middle" font-weight="600"'));
  });
  return { svg: parts.join('\n'), height };
}

interface Series {
  kind: ServerKind;
  label: string;
  dashed?: boolean;
  points: [number, number][];
}

/** A line chart of clients (x) against a value (y), with an optional horizontal limit line. */
function linePanel(
  title: string,
  yLabel: string,
  series: Series[],
  top: number,
  options: { limit?: number; yMaxCap?: number } = {},
): { svg: string; height: number } {
  const height = 320;
  const left = 90;
  const right = WIDTH - 40;
  const legendRows = Math.ceil(series.length / 3);
  const plotTop = top + 50 + legendRows * 18;
  const bottom = top + height - 40 + legendRows * 18;
  const all = series.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(1, ...all.map((p) => p[0])));
  let yMax = niceMax(Math.max(1, ...all.map((p) => p[1]).filter(Number.isFinite), options.limit ? options.limit * 1.2 : 0));
  if (options.yMaxCap) yMax = Math.min(yMax, options.yMaxCap);
  const x = (v: number): number => left + (v / xMax) * (right - left);
  const y = (v: number): number => bottom - (Math.min(v, yMax) / yMax) * (bottom - plotTop);
  const parts = [text(20, top + 24, title, 'font-size="16" font-weight="600"')];
  series.forEach((s, i) => {
    const lx = left + (i % 3) * 290;
    const ly = top + 44 + Math.floor(i / 3) * 18;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 25}" y2="${ly}" stroke="${COLORS[s.kind]}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`,
    );
    parts.push(text(lx + 30, ly + 4, s.label, 'font-size="11"'));
  });
  for (let t = 0; t <= 4; t++) {
    const v = (yMax * t) / 4;
    parts.push(`<line x1="${left}" y1="${y(v)}" x2="${right}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(text(left - 6, y(v) + 4, fmt(v), 'font-size="11" text-anchor="end" fill="#666"'));
    const xv = (xMax * t) / 4;
    parts.push(text(x(xv), bottom + 16, Math.round(xv).toLocaleString('en-US'), 'font-size="11" text-anchor="middle" fill="#666"'));
  }
  parts.push(text(left + (right - left) / 2, bottom + 34, 'signed-in clients', 'font-size="12" text-anchor="middle"'));
  parts.push(text(16, plotTop - 10, yLabel, 'font-size="12"'));
  if (options.limit !== undefined) {
    parts.push(`<line x1="${left}" y1="${y(options.limit)}" x2="${right}" y2="${y(options.limit)}" stroke="#000" stroke-dasharray="5,3"/>`);
    parts.push(text(right - 4, y(options.limit) - 5, `limit ${options.limit} ms`, 'font-size="11" text-anchor="end"'));
  }
  series.forEach((s) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${COLORS[s.kind]}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    for (const p of s.points) {
      const clipped = p[1] > yMax;
      parts.push(
        `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${clipped ? '#fff' : COLORS[s.kind]}" stroke="${COLORS[s.kind]}"/>`,
      );
      if (clipped) parts.push(text(x(p[0]) + 5, y(p[1]) + 12, Number.isFinite(p[1]) ? fmt(p[1]) : 'lost', 'font-size="10"'));
    }
  });
  return { svg: parts.join('\n'), height: height + legendRows * 18 };
}

export function renderSvg(results: BenchResults, rows: Row[]): string {
  const kinds = results.meta.kinds;
  const panels: { svg: string; height: number }[] = [];
  let top = 50;
  const add = (make: (top: number) => { svg: string; height: number }): void => {
    const panel = make(top);
    panels.push(panel);
    top += panel.height + 20;
  };
  add((t) => ratioPanel(rows, t));
  add((t) => throughputPanel(results, t));
  const memorySeries = (which: 'heapUsed' | 'rss'): Series[] =>
    kinds.flatMap((k) => {
      const ramp = results.kinds[k]?.ramp;
      if (!ramp) return [];
      const slope = ramp.memory.slope;
      const perClient = slope ? (which === 'heapUsed' ? slope.heapPerClient : slope.rssPerClient) : undefined;
      return [
        {
          kind: k,
          label: `${SERVER_LABELS[k]}${perClient !== undefined ? ` (slope ${(perClient / 1024).toFixed(1)} KiB/client)` : ''}`,
          points: [[0, ramp.idle[which] / 2 ** 20], ...ramp.steps.map((s): [number, number] => [s.clients, s.memory[which] / 2 ** 20])],
        },
      ];
    });
  add((t) =>
    linePanel('Server heap used after gc against signed-in clients (the slope is the cost per client)', 'MiB', memorySeries('heapUsed'), t),
  );
  add((t) => linePanel('Server RSS against signed-in clients', 'MiB', memorySeries('rss'), t));
  const latencySeries: Series[] = kinds.flatMap((k) => {
    const ramp = results.kinds[k]?.ramp;
    if (!ramp) return [];
    const points = ramp.steps.flatMap((s): [number, number][] => (s.probe ? [[s.clients, s.probe.p95]] : []));
    return [
      { kind: k, label: `${SERVER_LABELS[k]} (held ${ramp.held.toLocaleString('en-US')}${ramp.stop === 'latency' ? '' : '+'})`, points },
    ];
  });
  const signInSeries: Series[] = kinds.flatMap((k) => {
    const ramp = results.kinds[k]?.ramp;
    if (!ramp) return [];
    return [{ kind: k, label: SERVER_LABELS[k], points: ramp.steps.map((s): [number, number] => [s.clients, s.connectMs / 1000]) }];
  });
  add((t) =>
    linePanel(
      `Seconds until the server had answered the sign-ins of the last ${results.meta.sizes.rampStep.toLocaleString('en-US')} clients of each ramp step`,
      's',
      signInSeries,
      t,
    ),
  );
  const limit = results.meta.sizes.probeLimitMs;
  add((t) => linePanel('Broadcast delivery p95 along the ramp', 'ms', latencySeries, t, { limit, yMaxCap: limit * 4 }));

  const height = top + 30;
  const { meta } = results;
  const subtitle = `${meta.mode} run, ${meta.date}, node ${meta.node}, ${meta.cpus} × ${meta.cpuModel}${meta.commit ? `, commit ${meta.commit.slice(0, 10)}` : ''}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    text(20, 26, 'Parley server performance against a bare Socket.IO server', 'font-size="20" font-weight="700"'),
    text(20, 44, subtitle, 'font-size="12" fill="#555"'),
    ...panels.map((p) => p.svg),
    text(
      20,
      height - 12,
      'Bench-only settings: seeded users hashed with scrypt N=1024 (sign-in cost only); Parley rate limit raised. See docs/performance.md.',
      'font-size="11" fill="#555"',
    ),
    '</svg>',
    '',
  ].join('\n');
}
