/**
 * Output helpers for the CLI: aligned tables, byte and number formats, a progress bar.
 * @packageDocumentation
 * @internal
 */

/** `13.3 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** `3,487,886`. */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `0.60 G`, `12.4 M`, `980 k`. */
export function formatSi(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toFixed(2)} T`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} k`;
  return String(Math.round(n));
}

/** Milliseconds with 3 significant digits: `0.412`, `8.13`, `56.0`, `1203`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** Column alignment: numbers to the right. */
export type Align = 'left' | 'right';

/**
 * Lays out rows as a table: columns padded to their widest cell, two spaces apart, trailing
 * spaces trimmed.
 */
export function table(rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => {
          const pad = ' '.repeat(widths[i] - [...c].length);
          return align[i] === 'right' ? pad + c : c + pad;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A text progress bar on a terminal stream: `[#########.........]  12/40  coffee.png`. */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();

  /**
   * @param stream - where to draw (stderr)
   * @param total - steps to completion
   * @param enabled - draw at all (else every method does nothing)
   */
  constructor(
    private readonly stream: NodeJS.WritableStream & { columns?: number },
    private readonly total: number,
    private readonly enabled: boolean,
  ) {}

  /** Marks `n` more steps done and redraws (at most every 50 ms, and always at the end). */
  tick(label = '', n = 1): void {
    this.done += n;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 50 && this.done < this.total) return;
    this.lastDraw = now;
    const columns = this.stream.columns && this.stream.columns > 40 ? this.stream.columns : 80;
    const width = Math.min(30, columns - 40);
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const filled = Math.round(fraction * width);
    const elapsed = (now - this.started) / 1000;
    const eta = fraction > 0 && fraction < 1 ? ` eta ${Math.ceil((elapsed / fraction) * (1 - fraction))}s` : '';
    const counter = `${this.done}/${this.total}`;
    let line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counter}${eta}`;
    const room = columns - line.length - 3;
    if (label && room > 8) line += `  ${label.length > room ? `...${label.slice(label.length - room + 3)}` : label}`;
    this.stream.write(`\r${line}\x1b[K`);
  }

  /** Clears the bar's line. */
  end(): void {
    if (this.enabled && this.lastDraw) this.stream.write('\r\x1b[K');
  }
}
