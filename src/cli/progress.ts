import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, fields?: Record<string, string>): void;
  stop(): void;
}

/**
 * A progress bar on stderr when it is a terminal; otherwise (CI, pipes) nothing, so
 * logs stay clean — callers print their own summary lines.
 */
export function progressBar(label: string, total: number, format = '{bar} {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}'): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} ${format}`, hideCursor: true, clearOnComplete: false, etaBuffer: 50, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { info: '' });
  return {
    update: (value, fields) => bar.update(value, { info: '', ...fields }),
    stop: () => bar.stop(),
  };
}
