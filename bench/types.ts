import type { NetSetting } from '../parties/netem/settings.js';

/**
 * The benchmark contract. `npm run bench -- <suite> [--json FILE] [--quick] [args...]` runs
 * bench/run.ts, which imports bench/<suite>.ts; its default export is a BenchSuite.
 */

export interface BenchOptions {
  /** write `figures` as JSON to this file */
  readonly json?: string;
  /** smaller / shorter runs (CI smoke) */
  readonly quick?: boolean;
  /** remaining command-line arguments, for the suite to interpret */
  readonly args: string[];
  /** `--net SETTING` (suites in NET_SUITES only): emulate this link between the parties */
  readonly net?: NetSetting;
}

export interface BenchResult {
  readonly title: string;
  /** printed as a table (columns = union of the rows' keys, in first-seen order) */
  readonly rows: Record<string, string | number>[];
  /** flat keys with the unit in the key name (e.g. `matmul_u64_512_gmacs`), finite numbers */
  readonly figures: Record<string, number>;
  readonly notes?: string[];
}

export type BenchSuite = (opts: BenchOptions) => Promise<BenchResult>;
