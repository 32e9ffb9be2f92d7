/**
 * Progress on stderr: a one-line bar when stderr is a terminal (or with --progress), periodic JSON
 * lines with --json-progress, nothing with --quiet or when piped. Never shows record content.
 */
export interface ProgressCounts {
  /** Records done (written or rejected). */
  readonly records: number;
  readonly written: number;
  readonly rejected: number;
  /** Input bytes read so far, and the input size when known (a file, or stdin redirected from one). */
  readonly bytesRead: number;
  readonly bytesTotal: number | undefined;
}

export type ProgressMode = 'bar' | 'json' | 'none';

export function progressMode(o: { quiet: boolean; jsonProgress: boolean; forceBar: boolean }): ProgressMode {
  if (o.jsonProgress) return 'json';
  if (o.quiet) return 'none';
  return o.forceBar || process.stderr.isTTY === true ? 'bar' : 'none';
}

const BAR_REDRAW_MS = 100;
const BAR_WIDTH = 24;

export class Progress {
  readonly #start = Date.now();
  #counts: ProgressCounts = { records: 0, written: 0, rejected: 0, bytesRead: 0, bytesTotal: undefined };
  #lastDraw = 0;
  #drawn = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly mode: ProgressMode,
    readonly command: string,
    readonly intervalMs = 1000,
    readonly write: (s: string) => void = (s) => process.stderr.write(s),
  ) {
    if (mode === 'json' && intervalMs > 0) {
      this.#timer = setInterval(() => this.#json('progress'), intervalMs);
      this.#timer.unref();
    }
  }

  update(counts: ProgressCounts): void {
    this.#counts = counts;
    if (this.mode === 'json' && this.intervalMs === 0) this.#json('progress');
    if (this.mode !== 'bar') return;
    const now = Date.now();
    if (now - this.#lastDraw < BAR_REDRAW_MS) return;
    this.#lastDraw = now;
    this.#draw();
  }

  /** Writes a message line on stderr without tearing the bar. */
  log(line: string): void {
    if (this.#drawn) this.write('\r\x1b[2K');
    this.write(`${line}\n`);
    if (this.#drawn) this.#draw();
  }

  /** Final state: the bar's last frame and a summary line, or the JSON `done` line. */
  done(extra: Record<string, unknown> = {}): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.mode === 'json') this.#json('done', extra);
    if (this.mode === 'bar') {
      this.#draw();
      this.write('\n');
      const c = this.#counts;
      this.write(`${this.command}: ${c.records} records in ${seconds(this.#elapsed())} (${this.#rate()}/s), ${c.written} written, ${c.rejected} rejected\n`);
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#drawn) this.write('\n');
    this.#drawn = false;
  }

  #elapsed(): number {
    return (Date.now() - this.#start) / 1000;
  }

  #rate(): number {
    return Math.round(this.#counts.records / Math.max(0.001, this.#elapsed()));
  }

  #fraction(): number | undefined {
    const { bytesRead, bytesTotal } = this.#counts;
    return bytesTotal ? Math.min(1, bytesRead / bytesTotal) : undefined;
  }

  #eta(): number | undefined {
    const f = this.#fraction();
    if (f === undefined || f === 0) return undefined;
    return (this.#elapsed() * (1 - f)) / f;
  }

  #draw(): void {
    const c = this.#counts;
    const f = this.#fraction();
    let line = '';
    if (f !== undefined) {
      const full = Math.round(f * BAR_WIDTH);
      line = `[${'#'.repeat(full)}${'.'.repeat(BAR_WIDTH - full)}] ${(f * 100).toFixed(1)}% `;
    }
    line += `${c.records} records, ${this.#rate()}/s`;
    const eta = this.#eta();
    if (eta !== undefined && f! < 1) line += `, ETA ${seconds(eta)}`;
    line += `, ${c.rejected} rejected`;
    this.write(`\r\x1b[2K${this.command}: ${line}`);
    this.#drawn = true;
  }

  #json(type: 'progress' | 'done', extra: Record<string, unknown> = {}): void {
    const c = this.#counts;
    const f = this.#fraction();
    const eta = this.#eta();
    this.write(
      `${JSON.stringify({
        type,
        command: this.command,
        records: c.records,
        written: c.written,
        rejected: c.rejected,
        bytesRead: c.bytesRead,
        bytesTotal: c.bytesTotal ?? null,
        percent: f === undefined ? null : Math.round(f * 1000) / 10,
        recordsPerSecond: this.#rate(),
        etaSeconds: eta === undefined ? null : Math.round(eta),
        elapsedSeconds: Math.round(this.#elapsed() * 1000) / 1000,
        ...extra,
      })}\n`,
    );
  }
}

function seconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
