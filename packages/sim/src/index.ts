/**
 * @cairn/sim: the churn simulation behind Cairn's redundancy defaults. A Monte Carlo of a host
 * population (browser tabs with daily rhythms and heavy-tailed lifetimes, always-on Node hosts)
 * calibrates a per-file Markov chain that gives loss probabilities far too small to observe;
 * see README.md and docs/durability.md.
 */
export {
  BROWSER_HOST,
  DEFAULT_NETWORK,
  DEFAULT_REDUNDANCY,
  DEFAULT_REPAIR,
  DURABILITY_TARGET,
  MAX_OVERHEAD,
  NODE_HOST,
  schemeName,
  validateNetwork,
  validateRepair,
  validateScheme,
  type AlwaysOnline,
  type DiurnalOnline,
  type HostClass,
  type Network,
  type RepairPolicy,
  type Scheme,
} from './config.ts';
export {
  describeDist,
  distMean,
  distMedian,
  sample,
  validateDist,
  weibullWithMean,
  HOURS_PER_DAY,
  HOURS_PER_MONTH,
  HOURS_PER_YEAR,
  type Dist,
} from './dist.ts';
export { Rng } from './rng.ts';
export { Population, type Host, type LossKind } from './hosts.ts';
export { simulateFiles, type McOptions, type McStats } from './montecarlo.ts';
export {
  buildChain,
  meanTimeToLoss,
  solveChain,
  solveCycles,
  unavailability,
  validateChainSpec,
  type Chain,
  type ChainSolution,
  type ChainSpec,
  type CycleSolution,
} from './chain.ts';
export {
  bestThreshold,
  calibrate,
  chooseDefault,
  closedFormCheck,
  evaluate,
  makePopulation,
  monthlyBytesPerByte,
  runStudy,
  sensitivity,
  thresholdSweep,
  validate,
  DEFAULT_SCHEMES,
  DEFAULT_STUDY,
  type Calibration,
  type ClosedFormCheck,
  type Evaluation,
  type SensitivityRow,
  type Study,
  type StudyOptions,
  type StudyRow,
  type ValidationRow,
} from './study.ts';
export {
  alignTables,
  jsonLines,
  jsonRows,
  markdownTable,
  mdTable,
  svgPlot,
  type JsonRow,
} from './report.ts';
export { durabilityDoc, type DocInput } from './docs.ts';
export { parseArgs, runCli, type CliIo } from './run.ts';
