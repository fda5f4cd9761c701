import uPlot from 'uplot';
import { clock } from './format.js';

export interface Line {
  label: string;
  color: string;
  /** Draws on the right-hand axis (a second unit). */
  right?: boolean;
}

const HEIGHT = 120;
const AXIS_FONT = '10px system-ui, sans-serif';
const GRID = { stroke: '#e4e7eb', width: 1 };

function axes(withRight: boolean): uPlot.Axis[] {
  const base: uPlot.Axis = { font: AXIS_FONT, stroke: '#5b6670', grid: GRID, ticks: { show: false }, size: 36 };
  // Wall-clock time of day: the charts span minutes, the date says nothing.
  const time: uPlot.Axis = { ...base, size: 22, values: (_u, splits) => splits.map((t) => clock(t * 1000)) };
  const list: uPlot.Axis[] = [time, { ...base, scale: 'y' }];
  if (withRight) list.push({ ...base, scale: 'y2', side: 1, grid: { show: false } });
  return list;
}

/**
 * A small time-series chart (uPlot: canvas, fast enough to redraw every chart every second). The first
 * data column is epoch seconds; null values leave a gap.
 */
export class LineChart {
  private readonly plot: uPlot;

  constructor(target: HTMLElement, title: string, lines: Line[], width: number) {
    const withRight = lines.some((l) => l.right);
    const opts: uPlot.Options = {
      title,
      width,
      height: HEIGHT,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] }, y2: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: axes(withRight),
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, scale: l.right ? 'y2' : 'y', points: { show: false } }))],
    };
    this.plot = new uPlot(opts, [[], ...lines.map(() => [])], target);
  }

  update(data: (number | null)[][]): void {
    this.plot.setData(data as uPlot.AlignedData);
  }

  resize(width: number): void {
    this.plot.setSize({ width, height: HEIGHT });
  }
}

/** Batches by size, as bars (uPlot's bar paths over a numeric x scale). */
export class BarChart {
  private readonly plot: uPlot;

  constructor(target: HTMLElement, title: string, label: string, color: string, width: number) {
    const bars = uPlot.paths.bars!({ size: [0.7, 40] });
    const opts: uPlot.Options = {
      title,
      width,
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: (_u, min, max) => [Math.max(0, min - 1), max + 1] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { font: AXIS_FONT, stroke: '#5b6670', grid: { show: false }, ticks: { show: false }, size: 22, incrs: [1, 2, 4, 8, 16, 32, 64] },
        { font: AXIS_FONT, stroke: '#5b6670', grid: GRID, ticks: { show: false }, size: 36 },
      ],
      series: [{}, { label, fill: color, stroke: color, paths: bars, points: { show: false } }],
    };
    this.plot = new uPlot(opts, [[], []], target);
  }

  update(sizes: number[], counts: number[]): void {
    this.plot.setData([sizes, counts]);
  }

  resize(width: number): void {
    this.plot.setSize({ width, height: HEIGHT });
  }
}
