// cli/src/progress.ts: training progress on stderr (stdout stays for results). On a terminal, a cli-progress bar
// redrawn in place with the epoch, the losses and the speed; when stderr is a pipe or a file (CI, tests, `2> log`),
// a bar's carriage returns would be noise, so plain lines instead: about twenty over the run, plus the last epoch.
import type CliProgress from "cli-progress";
import { lazyRequire } from "./lazy.js";
import type { CliStream } from "./common.js";
import type { EpochReport } from "./forecast/trainer.js";

/** How many epoch lines a non-terminal run prints at most (plus the last epoch's). */
const LINES_WITHOUT_TTY = 20;

const cliProgress = lazyRequire<typeof CliProgress>("cli-progress");

const loss = (v: number) => (Number.isNaN(v) ? "-" : v.toFixed(5));
const rate = (v: number) => Math.round(v).toLocaleString("en-US");

export class TrainingProgress {
  private readonly stream: CliStream;
  private readonly bar: CliProgress.SingleBar | null;
  private readonly every: number;
  private lastPrinted = 0;

  /** `stream` is the command's stderr; when it says isTTY it is a tty.WriteStream (CliStream), which the bar redraws. */
  constructor(epochs: number, stream: CliStream) {
    this.stream = stream;
    this.every = Math.max(1, Math.ceil(epochs / LINES_WITHOUT_TTY));
    this.bar = stream.isTTY
      ? new (cliProgress().SingleBar)({
          stream: stream as NodeJS.WriteStream,
          format: "epoch {value}/{total} {bar} train {train}  validation {validation}{best}  {speed} windows/s",
          barsize: 24,
          hideCursor: true,
          fps: 10,
        }, cliProgress().Presets.shades_classic)
      : null;
    this.bar?.start(epochs, 0, { train: "-", validation: "-", best: " ", speed: "-" });
  }

  /** One finished epoch; `*` marks a new best validation loss. */
  update(r: EpochReport): void {
    const fields = { train: loss(r.trainLoss), validation: loss(r.validationLoss), best: r.best ? "*" : " ", speed: rate(r.windowsPerSecond) };
    if (this.bar) {
      this.bar.update(r.epoch, fields);
      return;
    }
    if (r.epoch % this.every === 0 || r.epoch === 1 || r.epoch === r.epochs) this.line(r, fields);
  }

  /** Ends the bar; prints the stopping epoch's line if the plain output has not shown it. */
  stop(last: EpochReport | undefined): void {
    if (this.bar) {
      this.bar.stop();
      return;
    }
    if (last && last.epoch !== this.lastPrinted) this.line(last, { train: loss(last.trainLoss), validation: loss(last.validationLoss), best: last.best ? "*" : " ", speed: rate(last.windowsPerSecond) });
  }

  private line(r: EpochReport, f: { train: string; validation: string; best: string; speed: string }): void {
    this.lastPrinted = r.epoch;
    const width = String(r.epochs).length;
    this.stream.write(`epoch ${String(r.epoch).padStart(width)}/${r.epochs}  train ${f.train}  validation ${f.validation}${f.best}  ${f.speed} windows/s\n`);
  }
}
