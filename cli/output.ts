import type { Writable } from 'node:stream';

/** Where a command writes: results to stdout, messages and progress to stderr. */
export interface Output {
  readonly json: boolean;
  /** A line of the result (stdout). */
  line(text?: string): void;
  /** A message for the operator (stderr): warnings, rejected rows, hints. */
  note(text: string): void;
  /** The result as JSON (stdout), for `--json`. */
  printJson(value: unknown): void;
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
}

/** The process's own stdout and stderr. */
export function processOutput(json: boolean): Output {
  return {
    json,
    line: (text = '') => void process.stdout.write(`${text}\n`),
    note: (text) => void process.stderr.write(`${text}\n`),
    printJson: (value) => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    stdout: process.stdout,
    stderr: process.stderr,
  };
}

/** Lays rows out in aligned columns under a header. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, indent = '  '): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const format = (cells: readonly string[]) =>
    `${indent}${cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd();
  return [format(headers), ...rows.map(format)];
}

/** A duration as an operator reads it: `45s`, `12m`, `3h 05m`, `4d 02h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/** An ISO time with how long ago it was: `2024-05-01T10:00:00.000Z (3h 05m ago)`. */
export function formatTime(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isFinite(t) ? `${iso} (${formatDuration(now - t)} ago)` : iso;
}

/**
 * A one-line progress indicator on stderr, redrawn in place at most every 100 ms. It is silent when stderr is not
 * a terminal, so piped and scripted runs see only the result.
 */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled: boolean;

  constructor(
    private readonly stream: Writable & { isTTY?: boolean } = process.stderr,
    enabled?: boolean,
  ) {
    this.enabled = enabled ?? Boolean(stream.isTTY);
  }

  /** Shows `text` unless the previous update was under 100 ms ago (`force` shows it anyway). */
  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    this.stream.write(`\r\x1b[2K${text}`);
  }

  /** Clears the line. */
  done(): void {
    if (this.enabled && this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}

/** Writes a chunk and waits for the stream to drain when its buffer is full, so streaming output keeps memory flat. */
export async function write(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        stream.off('error', onError);
        resolve();
      };
      const onError = (error: Error) => {
        stream.off('drain', onDrain);
        reject(error);
      };
      stream.once('drain', onDrain);
      stream.once('error', onError);
    });
  }
}
