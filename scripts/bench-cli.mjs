/**
 * What the benchmark scripts share: their command line (`--json`, `--name=value`), the
 * human report (silent with --json), and time and percentile helpers.
 */
const args = process.argv.slice(2);

/** --json: one JSON object on stdout, nothing else */
export const asJson = args.includes('--json');

/** whether `--flag` was given */
export const flag = (name) => args.includes(`--${name}`);

/** the text of `--name=value`, or undefined */
export const text = (name) => args.find((x) => x.startsWith(`--${name}=`))?.slice(name.length + 3);

/** `--name=N` as a number, `fallback` when absent; anything but a positive number is refused */
export function opt(name, fallback) {
  const given = text(name);
  const n = given === undefined ? fallback : Number(given);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

/** a line of the human report */
export const say = (...m) => !asJson && console.log(...m);

/** wall-clock milliseconds, comparable across processes */
export const now = () => performance.timeOrigin + performance.now();

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** the p-th percentile of ascending `sorted` */
export const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
