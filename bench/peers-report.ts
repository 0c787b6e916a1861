/**
 * The peers suite's arithmetic, kept free of processes so that it can be unit-tested:
 * option parsing, medians over the interleaved rounds, the choice of a peer's best variant,
 * the flat figures and the side-by-side markdown table.
 */
import { PEER_OPS, type PeerOp, isPeerOp } from './peers-ops.js';

export class PeersUsageError extends Error {}

export interface PeersOptions {
  readonly ops: PeerOp[];
  readonly mpspdz?: string;
  readonly crypten?: string;
  /** python for compile.py and CrypTen (default /usr/bin/python3 when it exists, else python3) */
  readonly python?: string;
  /** interleaved rounds (ours, MP-SPDZ, CrypTen; repeat) */
  readonly rounds: number;
  /** MP-SPDZ compiler variants to try */
  readonly variants?: string[];
}

export const PEERS_USAGE =
  'usage: npm run bench -- peers [--mpspdz MP-SPDZ-TREE] [--crypten CRYPTEN-CHECKOUT] [--python PYTHON] [--ops op,op,...] [--rounds N] [--variants def,Y,Z] [--json FILE] [--quick]\n' +
  `  ops: ${PEER_OPS.join(', ')}`;

export function parsePeersArgs(args: readonly string[], defaultRounds: number): PeersOptions {
  let mpspdz: string | undefined;
  let crypten: string | undefined;
  let python: string | undefined;
  let variants: string[] | undefined;
  let rounds = defaultRounds;
  const ops: PeerOp[] = [];
  const value = (i: number, name: string): string => {
    const v = args[i];
    if (v === undefined || v.startsWith('--')) throw new PeersUsageError(`${name} needs a value\n${PEERS_USAGE}`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--mpspdz') mpspdz = value(++i, a);
    else if (a === '--crypten') crypten = value(++i, a);
    else if (a === '--python') python = value(++i, a);
    else if (a === '--variants') variants = value(++i, a).split(',').filter(Boolean);
    else if (a === '--rounds') {
      rounds = Number(value(++i, a));
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new PeersUsageError(`--rounds must be an integer in [1, 50]\n${PEERS_USAGE}`);
    } else if (a === '--ops') {
      // --ops a,b or --ops a b c (until the next option)
      let any = false;
      while (i + 1 < args.length && !args[i + 1].startsWith('--')) {
        for (const o of args[++i].split(',').filter(Boolean)) {
          if (!isPeerOp(o)) throw new PeersUsageError(`unknown op '${o}'\n${PEERS_USAGE}`);
          if (!ops.includes(o)) ops.push(o);
          any = true;
        }
      }
      if (!any) throw new PeersUsageError(`--ops needs at least one op\n${PEERS_USAGE}`);
    } else throw new PeersUsageError(`unknown argument '${a}'\n${PEERS_USAGE}`);
  }
  return { ops: ops.length ? PEER_OPS.filter((o) => ops.includes(o)) : [...PEER_OPS], mpspdz, crypten, python, rounds, variants };
}

export function median(v: readonly number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Samples of one implementation (one variant) of one op, over all rounds. */
export interface Samples {
  /** variant label ('' for mpcache) */
  readonly variant: string;
  /** the first execution in each process, s */
  readonly cold: number[];
  /** the later (warmed) executions, s */
  readonly warm: number[];
  /** CPU time of the busiest process per warmed execution, s (MP-SPDZ: its whole run / executions, an upper bound) */
  readonly cpu: number[];
  /** bytes sent per party per element (mean over the three processes) */
  bytesPerElem: number;
  rounds: number;
  /** worst error over the rounds */
  err: number;
  /** free-form detail for the table (e.g. CrypTen's TTP share) */
  detail?: string;
}

export function newSamples(variant: string): Samples {
  return { variant, cold: [], warm: [], cpu: [], bytesPerElem: NaN, rounds: NaN, err: 0 };
}

export interface Summary {
  readonly variant: string;
  readonly coldS: number;
  readonly warmS: number;
  readonly cpuS: number;
  readonly bytesPerElem: number;
  readonly rounds: number;
  readonly err: number;
  readonly detail?: string;
}

export function summarize(s: Samples): Summary {
  return { variant: s.variant, coldS: median(s.cold), warmS: median(s.warm), cpuS: median(s.cpu), bytesPerElem: s.bytesPerElem, rounds: s.rounds, err: s.err, ...(s.detail ? { detail: s.detail } : {}) };
}

/** errors within this factor of each other count as the same accuracy (trunc_pr's error is random: 1.3e-5 vs 1.4e-5 is no difference) */
export const SAME_ACCURACY = 2;

/** The largest error a peer's variant may have to count as "as accurate": mpcache's, or the peer's best when it cannot reach that. */
function errLimit(cands: readonly Summary[], oursErr: number): number {
  const minErr = Math.min(...cands.map((c) => c.err));
  return SAME_ACCURACY * Math.max(Number.isFinite(oursErr) ? oursErr : 0, minErr);
}

function accurate(e: number, limit: number): boolean {
  return e <= limit || e < 1e-12;
}

/**
 * A peer's best variant: the fastest (warmed) among those at least as accurate as mpcache
 * (within SAME_ACCURACY); when none is, the fastest among the peer's most accurate ones. (A
 * faster but clearly less accurate variant is not a fair "best".)
 */
export function pickBest(cands: readonly Summary[], oursErr: number): Summary | undefined {
  const ok = cands.filter((c) => Number.isFinite(c.warmS));
  if (ok.length === 0) return undefined;
  const limit = errLimit(ok, oursErr);
  return ok.filter((c) => accurate(c.err, limit)).reduce((a, b) => (b.warmS < a.warmS ? b : a));
}

/**
 * The variants worth running again after the first round: those within `factor` of the best
 * one's warmed time (pickBest), and never one the best rule cannot choose anyway.
 */
export function keepVariants(cands: readonly Summary[], oursErr: number, factor = 2): Set<string> {
  const best = pickBest(cands, oursErr);
  if (best === undefined) return new Set(cands.map((c) => c.variant));
  const limit = errLimit(cands, oursErr);
  return new Set(cands.filter((c) => c.warmS <= factor * best.warmS && accurate(c.err, limit)).map((c) => c.variant));
}

export interface OpRow {
  readonly op: PeerOp;
  readonly label: string;
  readonly size: string;
  readonly ours: Summary;
  readonly mpspdz?: readonly Summary[];
  readonly crypten?: readonly Summary[];
  /** what the peers run for this op when it is not the same operation */
  readonly counterpart?: string;
}

const r4 = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(4)) : v);

/** The flat figures of one op (keys as issue #20 names them). */
export function opFigures(row: OpRow, sizeKey?: string): Record<string, number> {
  const f: Record<string, number> = {};
  const put = (k: string, v: number): void => {
    if (Number.isFinite(v)) f[k] = r4(v);
  };
  const o = row.op;
  put(`${o}_s`, row.ours.warmS);
  put(`${o}_cold_s`, row.ours.coldS);
  put(`${o}_cpu_s`, row.ours.cpuS);
  put(`${o}_bytes_per_elem`, row.ours.bytesPerElem);
  put(`${o}_rounds`, row.ours.rounds);
  put(`${o}_err`, row.ours.err);
  if (sizeKey) put(sizeKey, row.ours.warmS);
  const m = row.mpspdz ? pickBest(row.mpspdz, row.ours.err) : undefined;
  if (m && row.mpspdz) {
    const limit = errLimit(row.mpspdz, row.ours.err);
    const fair = row.mpspdz.filter((c) => accurate(c.err, limit));
    const cold = Math.min(...fair.map((c) => c.coldS));
    put(`${o}_mpspdz_s`, cold);
    put(`${o}_mpspdz_warm_s`, m.warmS);
    put(`${o}_mpspdz_err`, m.err);
    put(`${o}_mpspdz_bytes_per_elem`, m.bytesPerElem);
    put(`${o}_mpspdz_rounds`, m.rounds);
    put(`${o}_mpspdz_cpu_s`, m.cpuS);
    put(`${o}_peer_ratio_mpspdz`, m.warmS / row.ours.warmS);
    put(`${o}_peer_ratio_mpspdz_cold`, cold / row.ours.warmS);
  }
  const c = row.crypten ? pickBest(row.crypten, row.ours.err) : undefined;
  if (c) {
    put(`${o}_crypten_s`, c.warmS);
    put(`${o}_crypten_cold_s`, c.coldS);
    put(`${o}_crypten_err`, c.err);
    put(`${o}_crypten_bytes_per_elem`, c.bytesPerElem);
    put(`${o}_crypten_rounds`, c.rounds);
    put(`${o}_crypten_cpu_s`, c.cpuS);
    put(`${o}_peer_ratio_crypten`, c.warmS / row.ours.warmS);
  }
  return f;
}

const fs = (v: number): string => (!Number.isFinite(v) ? '-' : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v >= 0.01 ? v.toFixed(3) : v.toFixed(4));
const fb = (v: number): string => (!Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const fe = (v: number): string => (!Number.isFinite(v) ? '-' : v === 0 ? '0' : v.toExponential(1));
const fr = (v: number): string => (!Number.isFinite(v) ? '-' : `${v.toFixed(2)}x`);

/** One implementation's cell: warm s (cold s), CPU s, bytes, rounds, error. */
function cell(x: Summary, extra = ''): string {
  return `${fs(x.warmS)} (${fs(x.coldS)}); cpu ${fs(x.cpuS)}; ${fb(x.bytesPerElem)} B${extra}; ${x.rounds} r; err ${fe(x.err)}`;
}

/** The side-by-side table (markdown), one row per op. */
export function peersTable(rows: readonly OpRow[]): string[] {
  const out = [
    '| op | size | mpcache | MP-SPDZ (best variant) | CrypTen | MP-SPDZ / mpcache, warm (cold) | CrypTen / mpcache |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const o = r.ours;
    const m = r.mpspdz ? pickBest(r.mpspdz, o.err) : undefined;
    const c = r.crypten ? pickBest(r.crypten, o.err) : undefined;
    const fig = opFigures(r);
    const mp = m ? `${m.variant}: ${cell({ ...m, coldS: fig[`${r.op}_mpspdz_s`] ?? NaN })}` : '-';
    const ct = c ? `${c.variant === 'std' ? '' : `${c.variant}: `}${cell(c, c.detail ? ` ${c.detail}` : '')}` : '-';
    const rm = m ? `${fr(fig[`${r.op}_peer_ratio_mpspdz`])} (${fr(fig[`${r.op}_peer_ratio_mpspdz_cold`])})` : '-';
    const rc = c ? fr(fig[`${r.op}_peer_ratio_crypten`]) : '-';
    out.push(`| ${r.label} | ${r.size} | ${cell(o)} | ${mp} | ${ct} | ${rm} | ${rc} |`);
  }
  return out;
}

/** Every variant measured, for the record (markdown). */
export function variantTable(rows: readonly OpRow[]): string[] {
  const out = ['| op | peer | variant | warm s | cold s | CPU s | B / party / elem | rounds | err |', '|---|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    for (const [peer, list] of [['MP-SPDZ', r.mpspdz], ['CrypTen', r.crypten]] as const) {
      for (const v of list ?? []) out.push(`| ${r.op} | ${peer} | ${v.variant} | ${fs(v.warmS)} | ${fs(v.coldS)} | ${fs(v.cpuS)} | ${fb(v.bytesPerElem)} | ${v.rounds} | ${fe(v.err)} |`);
    }
  }
  return out;
}

/** The ops (and peers) where mpcache is not at least `target` times faster (warmed). */
export function misses(figures: Record<string, number>, ops: readonly PeerOp[], target = 1.2): string[] {
  const m: string[] = [];
  for (const o of ops) {
    for (const p of ['mpspdz', 'crypten'] as const) {
      const r = figures[`${o}_peer_ratio_${p}`];
      if (r !== undefined && r < target) m.push(`${o} vs ${p === 'mpspdz' ? 'MP-SPDZ' : 'CrypTen'} ${r.toFixed(2)}x`);
    }
  }
  return m;
}
