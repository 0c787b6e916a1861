import { describe, expect, it } from 'vitest';
import { parseCryptenRecords } from './peers-crypten.js';
import { compileArgs, decodeMpspdz, parseMpspdzLog, parseTimes, programName } from './peers-mpspdz.js';
import { FULL_SIZES, QUICK_SIZES, opError, opInputs, opReference, opSpec, values } from './peers-ops.js';
import { summarizeProfile } from './peers-profile.js';
import { PeersUsageError, type Summary, keepVariants, median, misses, opFigures, parsePeersArgs, peersTable, pickBest } from './peers-report.js';

const sum = (variant: string, warmS: number, err: number, coldS = warmS * 2): Summary => ({ variant, warmS, coldS, cpuS: warmS / 2, err, bytesPerElem: 8, rounds: 1 });

describe('peers suite arithmetic (no peers needed)', () => {
  it('parses its options and rejects bad ones', () => {
    const o = parsePeersArgs(['--mpspdz', '/m', '--crypten', '/c', '--ops', 'lt,mul', 'exp', '--rounds', '5'], 3);
    expect(o).toMatchObject({ mpspdz: '/m', crypten: '/c', rounds: 5 });
    expect(o.ops).toEqual(['mul', 'lt', 'exp']); // table order, not argument order
    expect(parsePeersArgs([], 3).ops.length).toBe(13);
    expect(() => parsePeersArgs(['--ops', 'nope'], 3)).toThrow(PeersUsageError);
    expect(() => parsePeersArgs(['--mpspdz'], 3)).toThrow(/needs a value/);
    expect(() => parsePeersArgs(['--rounds', '0'], 3)).toThrow(/rounds/);
    expect(() => parsePeersArgs(['--bogus'], 3)).toThrow(/unknown argument/);
  });

  it('takes medians and picks the fastest variant that is at least as accurate as mpcache', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
    const cands = [sum('fast-bad', 0.1, 1e-2), sum('slow-good', 0.5, 1e-5), sum('mid-ok', 0.3, 1e-4)];
    expect(pickBest(cands, 1e-4)?.variant).toBe('mid-ok');
    expect(pickBest(cands, 0.6e-4)?.variant).toBe('mid-ok'); // within 2x of mpcache's error counts as as accurate
    expect(pickBest(cands, 0.4e-4)?.variant).toBe('slow-good');
    expect(pickBest(cands, 1e-1)?.variant).toBe('fast-bad');
    // none as accurate as mpcache: the fastest of the most accurate
    expect(pickBest(cands, 1e-7)?.variant).toBe('slow-good');
    // exact ops (error 0) compare equal
    expect(pickBest([sum('a', 0.2, 0), sum('b', 0.1, 0)], 0)?.variant).toBe('b');
    expect(pickBest([], 0)).toBeUndefined();
    // after round 1: keep what is within 2x of the best and accurate enough
    expect([...keepVariants([...cands, sum('mid-slow', 0.7, 1e-4)], 1e-4)].sort()).toEqual(['mid-ok', 'slow-good']);
  });

  it('writes the flat figures with the issue key names and flags ops below 1.2x', () => {
    const row = {
      op: 'mul' as const, label: 'mul', size: '100k', ours: sum('', 0.01, 0),
      mpspdz: [sum('Z', 0.005, 0, 0.02), sum('def', 0.004, 0, 0.03)], crypten: [sum('std', 0.03, 0)],
    };
    const f = opFigures(row, 'mul_100k_s');
    expect(f).toMatchObject({ mul_s: 0.01, mul_100k_s: 0.01, mul_mpspdz_warm_s: 0.004, mul_mpspdz_s: 0.02, mul_crypten_s: 0.03, mul_peer_ratio_mpspdz: 0.4, mul_peer_ratio_crypten: 3 });
    expect(f.mul_peer_ratio_mpspdz_cold).toBeCloseTo(2);
    expect(misses(f, ['mul'])).toEqual(['mul vs MP-SPDZ 0.40x']);
    const md = peersTable([row]);
    expect(md).toHaveLength(3);
    expect(md[2]).toContain('0.40x');
    // without peers: only mpcache's keys
    expect(Object.keys(opFigures({ ...row, mpspdz: undefined, crypten: undefined }))).not.toContain('mul_peer_ratio_mpspdz');
  });

  it('parses MP-SPDZ output: per-execution timers and the revealed ring integers', () => {
    const log = [
      'Stopped timer 1 at 0.000206773 (0.008 MB, 1 rounds)',
      'OUT mul [1465861613108, -944674880215, 3]',
      'Time = 0.00448313 seconds ',
      'Time1 = 0.000206773 seconds (0.008 MB, 1 rounds)',
      'Time2 = 2.70874e-04 seconds (0.008 MB, 1 rounds)',
    ].join('\n');
    const p = parseMpspdzLog(log);
    expect(p.timers).toEqual([{ s: 0.000206773, mb: 0.008, rounds: 1 }, { s: 0.000270874, mb: 0.008, rounds: 1 }]);
    expect(p.out).toEqual([1465861613108n, -944674880215n, 3n]);
    expect(() => parseMpspdzLog('Time2 = 1 seconds (0 MB, 0 rounds)')).toThrow(/Timer1 missing/);
    // bash's `times`: the shell's own line, then the children's (user, system)
    expect(parseTimes('x\n0m0.001s 0m0.002s\n1m2.500s 0m0.250s\n')).toBeCloseTo(62.75);
    expect(() => parseTimes('no times')).toThrow(/no CPU times/);
    expect(programName({ prog: 'lt', variant: 'Z', reps: 4 })).toBe('bench_op-lt-vZ-trunc_pr-unsplit1-r4');
    expect(compileArgs({ prog: 'lt', variant: 'Y', reps: 2, n: 10000 }).slice(0, 3)).toEqual(['-R', '64', '-Y']);
  });

  it('decodes MP-SPDZ outputs into the canonical layout', () => {
    const f = 2 ** 18;
    expect(Array.from(decodeMpspdz('mul', [BigInt(3 * f * f)], QUICK_SIZES))).toEqual([3]);
    // softmax is column-major in the program: element (r, c) at c * rows + r
    const s = { ...QUICK_SIZES, rows: 2, cols: 3 };
    const cm = [0, 10, 1, 11, 2, 12].map((v) => BigInt(v * f));
    expect(Array.from(decodeMpspdz('softmax', cm, s))).toEqual([0, 1, 2, 10, 11, 12]);
    // top-k keys: row * 2^24 + x + 2^23 ascending per row -> values descending
    const t = { ...QUICK_SIZES, tk: [2, 8, 2] as const };
    const key = (row: number, x: number): bigint => BigInt(row * 2 ** 24 + x * f + 2 ** 23);
    expect(Array.from(decodeMpspdz('topk', [key(0, -1), key(0, 2), key(1, 0.5), key(1, 3)], t))).toEqual([2, -1, 3, 0.5]);
  });

  it('measures errors against float64 on the same inputs', () => {
    const spec = opSpec('lt', QUICK_SIZES);
    expect(opError(spec, [1, 0, 1, 1], [1, 0, 0, 1])).toBe(0.25);
    expect(opError(opSpec('exp', QUICK_SIZES), [1, 2.5], [1, 2])).toBe(0.5);
    expect(opError(opSpec('exp', QUICK_SIZES), [NaN], [1])).toBe(Infinity);
    expect(() => opError(spec, [1], [1, 2])).toThrow(/1 values/);
    // the LCG the three implementations share: the first values of seed 1 on [-10, 10) as the Python mirror computes them
    expect(Array.from(values(2, -10, 10, 1)).map((v) => v.toFixed(6))).toEqual(['-4.842025', '-6.297880']);
    const ref = opReference('argmax', QUICK_SIZES, opInputs('argmax', QUICK_SIZES));
    expect(ref.length).toBe(QUICK_SIZES.rows);
    expect(opSpec('matmul', FULL_SIZES).elems).toBe(128 * 768);
  });

  it('reads CrypTen records: bytes of both parties and the TTP', () => {
    const r = parseCryptenRecords(
      { op: 'mul', variant: 'std', rank: 0, ms: [10, 20], cpu_ms: [5, 6], cold_ms: 30, bytes_sent: 1600, crypten_rounds: 4, ttp_bytes_sent: 800, ttp_requests: 1 },
      { op: 'mul', variant: 'std', rank: 1, ms: [11, 21], cpu_ms: [7, 4], cold_ms: 31, bytes_sent: 1600, crypten_rounds: 1 },
      new Float64Array([1]),
    );
    expect(r).toMatchObject({ coldS: 0.03, warmS: [0.01, 0.02], cpuS: [0.007, 0.006], bytesSent: [1600, 1600, 800], rounds: 1, ttpRequests: 1 });
  });

  it('summarises a CPU profile by category inside a time window', () => {
    const prof = {
      startTime: 0, endTime: 4000, samples: [1, 2, 3, 2], timeDeltas: [1000, 1000, 1000, 1000],
      nodes: [
        { id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: 0 } },
        { id: 2, callFrame: { functionName: 'rssMul', url: 'file:///x/kernels/validate.ts', lineNumber: 0 } },
        { id: 3, callFrame: { functionName: 'sealRaw', url: 'file:///x/parties/frame-codec.ts', lineNumber: 9 } },
      ],
    };
    const all = summarizeProfile(prof);
    expect(all.byCategory).toMatchObject({ idle: 1, kernels: 2, transport: 1 });
    expect(all.top[0]).toMatchObject({ fn: 'rssMul', ms: 2 });
    const w = summarizeProfile(prof, 5, [1500, 3500]);
    expect(w.byCategory).toMatchObject({ idle: 0, kernels: 1, transport: 1 });
  });
});
