/**
 * The command line, with its input and output passed in (so tests run it without a process):
 *
 *   npm run simulate                      markdown table and the chosen default
 *   npm run simulate -- --json            JSON lines, one object per setting
 *   npm run simulate -- --write-docs      docs/durability.md and docs/durability.svg
 *   options: --seed <s>  --schemes k:m,k:m,...  --quick (small runs, for tests)
 */
import { DEFAULT_REDUNDANCY } from './config.ts';
import { durabilityDoc } from './docs.ts';
import { jsonLines, markdownTable, sci, svgPlot } from './report.ts';
import {
  closedFormCheck,
  DEFAULT_STUDY,
  makePopulation,
  calibrate,
  runStudy,
  sensitivity,
  thresholdSweep,
  validate,
  VALIDATION_SETTINGS,
  type StudyOptions,
} from './study.ts';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Writes a file under the docs directory (name only: durability.md, durability.svg). */
  writeDoc(name: string, content: string): void;
  now(): number;
}

export interface CliArgs {
  json: boolean;
  writeDocs: boolean;
  quick: boolean;
  help: boolean;
  seed: string;
  schemes: [number, number][] | undefined;
}

export const USAGE = `usage: npm run simulate -- [--json] [--write-docs] [--seed <s>] [--schemes k:m,...] [--quick]

  (no flag)      print the table (markdown) and the chosen default
  --json         print JSON lines: one object per setting {scheme, overhead,
                 annual_loss_probability, availability,
                 repair_bytes_per_stored_byte_per_month, default, k, m,
                 repair_threshold, meets_goal}
  --write-docs   regenerate docs/durability.md and docs/durability.svg
                 (with threshold sweep, sensitivity and validation runs)
  --seed <s>     random seed (default 1); the same seed gives the same output
  --schemes      (k,m) pairs to compare, e.g. 1:2,10:10,29:51 (k = 1: replication)
  --quick        small populations and runs (seconds; for tests, not for decisions)
`;

export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = {
    json: false,
    writeDocs: false,
    quick: false,
    help: false,
    seed: String(DEFAULT_STUDY.seed),
    schemes: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--json') args.json = true;
    else if (a === '--write-docs') args.writeDocs = true;
    else if (a === '--quick') args.quick = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--seed') args.seed = value();
    else if (a.startsWith('--seed=')) args.seed = a.slice(7);
    else if (a === '--schemes' || a.startsWith('--schemes=')) {
      const v = a === '--schemes' ? value() : a.slice(10);
      args.schemes = v.split(',').map((pair) => {
        const m = /^(\d+):(\d+)$/.exec(pair.trim());
        if (!m) throw new UsageError(`--schemes: expected k:m pairs, got ${JSON.stringify(pair)}`);
        return [Number(m[1]), Number(m[2])] as [number, number];
      });
    } else throw new UsageError(`unknown argument ${JSON.stringify(a)}`);
  }
  if (args.seed === '') throw new UsageError('--seed must not be empty');
  return args;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Options for a run: the defaults, or much smaller ones with --quick. */
export function studyOptions(args: CliArgs): StudyOptions {
  const seed = /^\d+$/.test(args.seed) ? Number(args.seed) : args.seed;
  const base: StudyOptions = { ...DEFAULT_STUDY, seed };
  const quick: Partial<StudyOptions> = args.quick
    ? {
        network: { ...base.network, hosts: 300, burnInHours: 365 * 24 },
        files: 12,
        calibrationFiles: 20,
        maxPhases: 8,
      }
    : {};
  return { ...base, ...quick, ...(args.schemes ? { schemes: args.schemes } : {}) };
}

/** Runs the command; returns the exit code. */
export function runCli(argv: readonly string[], io: CliIo): number {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    io.stdout(USAGE);
    return 0;
  }
  const options = studyOptions(args);
  const t0 = io.now();
  const study = runStudy(options);
  const tableSeconds = (io.now() - t0) / 1000;
  if (args.json) {
    io.stdout(jsonLines(study.rows) + '\n');
  } else if (!args.writeDocs) {
    io.stdout(markdownTable(study.rows) + '\n\n');
    const c = study.chosen;
    io.stdout(
      c
        ? `default: ${c.name}, repair at ${c.scheme.repairThreshold} of ${c.n} shards: loss ${sci(c.annualLossProbability)} per year at ${c.overhead.toFixed(2)}x\n`
        : 'default: none of these settings meets the goal under the overhead cap\n',
    );
  }
  const c = study.chosen;
  const standard = !args.quick && !args.schemes && args.seed === String(DEFAULT_STUDY.seed);
  if (
    standard &&
    c &&
    (c.scheme.k !== DEFAULT_REDUNDANCY.k ||
      c.scheme.m !== DEFAULT_REDUNDANCY.m ||
      c.scheme.repairThreshold !== DEFAULT_REDUNDANCY.repairThreshold ||
      options.repair.offlineTimeoutHours !== DEFAULT_REDUNDANCY.offlineTimeoutHours)
  ) {
    io.stderr(
      `warning: the study chose ${c.name} repaired at ${c.scheme.repairThreshold}, but DEFAULT_REDUNDANCY in ` +
        `packages/sim/src/config.ts says RS(${DEFAULT_REDUNDANCY.k},${DEFAULT_REDUNDANCY.m}) at ${DEFAULT_REDUNDANCY.repairThreshold}: update it\n`,
    );
  }
  if (args.writeDocs) {
    const pop = makePopulation(options.network, options.repair, options.years, options.seed);
    const cal = calibrate(pop, options.repair, {
      seed: options.seed,
      files: options.calibrationFiles,
      years: options.years,
    });
    const evalOptions = {
      seed: options.seed,
      files: options.files,
      years: options.years,
      maxPhases: options.maxPhases,
    };
    const sweep = c
      ? thresholdSweep(pop, cal, c.scheme.k, c.scheme.m, options.repair, evalOptions)
      : [];
    io.stderr(`table ${tableSeconds.toFixed(1)} s; sensitivity runs...\n`);
    const sens = c ? sensitivity(c.scheme, options, args.quick ? 2 : Infinity) : [];
    io.stderr('validation runs...\n');
    const settings = args.quick
      ? VALIDATION_SETTINGS.slice(0, 3).map(
          ([s, files]) => [s, Math.max(20, Math.round(files / 20))] as const,
        )
      : VALIDATION_SETTINGS;
    const validation = validate(options, settings);
    const closedForm = closedFormCheck(options.seed, args.quick ? 100 : 300);
    const total = (io.now() - t0) / 1000;
    io.writeDoc(
      'durability.md',
      durabilityDoc({
        study,
        sweep,
        sensitivity: sens,
        validation,
        closedForm,
      }),
    );
    io.writeDoc('durability.svg', svgPlot(study.rows, sweep, options.target, options.maxOverhead));
    io.stderr(`wrote durability.md and durability.svg (${total.toFixed(0)} s)\n`);
  }
  return 0;
}
