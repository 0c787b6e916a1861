/**
 * SiLU and GeLU on fixed-point shares by piecewise polynomials (engine: piecewise.ts).
 *
 * Default ('fit') variants: f(x) = relu(x) + g(|x|), where g(t) = f(t) - t for t >= 0 decays
 * to 0 (silu: g(t) = -t / (1 + e^t); gelu: g(t) = -t Phi(-t)), approximated by ONE
 * polynomial in |x| on [0, a] and by 0 beyond:
 *   silu: a = 8, degree 5, max abs error 4.0e-3 on [-16, 16] (float64, fit-nonlinear.ts)
 *   gelu: a = 3.5, degree 4, max abs error 3.0e-3
 * Breakpoints -a, 0, a: 3 comparisons per element (one batched ltz), |x| and relu come from
 * the same level-0 product (selectors sign * segment), so one polynomial serves both sides.
 * Published variants, for reproducing the papers (their own error exceeds 1e-2):
 *   'mpcache' SiLU (docs/MPCACHE.md §4, Zeng et al. 2025): x < -8: 0; [-8, -4): quadratic;
 *     [-4, 4]: even degree-6 + x/2; x > 4: x. Max abs error 7.2e-2 (just above x = 4, where
 *     silu(4) = 3.928 but the piece gives x).
 *   'puma' GeLU (PUMA, Dong et al. 2023, "PUMA: Secure Inference of LLaMA-7B in Five
 *     Minutes"; coefficients as published there and in SecretFlow SPU): x < -4: 0;
 *     [-4, -1.95): cubic; [-1.95, 3]: degree 6; x > 3: x. Max abs error 2.0e-2 (at x = 3).
 *
 * Cost per element (f = 18; cmp = one comparison whose bit is injected together with its
 * product by x, piecewise.ts; ltz's rounds, 7 with the current core):
 *   silu fit:     ltz + 4 rounds;  bytes/party (mean) 3 cmp + 56   (181 measured at 3000)
 *   gelu fit:     ltz + 3 rounds;  bytes/party (mean) 3 cmp + 32   (157)
 *   silu mpcache: ltz + 4 rounds (170);  gelu puma: ltz + 4 rounds (184)
 * (exact counts: piecewiseCost(spec) — asserted by the tests). opts.bitWidth = 32 (a promise
 * that |x| < 2^12 at f = 18) shrinks the comparisons (compare.ts: ~23 instead of ~36 bytes).
 *
 * Reveals nothing (piecewise.ts: a fixed composition of msb, bitTimes, mulFixed, truncTerms and trunc).
 */
import type { Context } from './context.js';
import { type PiecewiseOptions, type PiecewiseSpec, piecewise } from './piecewise.js';
import type { ArithShare } from './types.js';

/** g(t) ~ -t / (1 + e^t) on [0, 8] (fit-nonlinear.ts), coefficients of t^0..t^5 */
const SILU_G: readonly number[] = [
  -0.0035893138376732149, -0.51038171030716906, 0.31639929135973344, -0.074973220474455121, 0.0079590413054985969,
  -0.0003168814077781676,
];
/** h(t) ~ -t Phi(-t) on [0, 3.5] (fit-nonlinear.ts), coefficients of t^0..t^4 */
const GELU_H: readonly number[] = [-0.0025168748568698096, -0.51385239736106492, 0.50832376274695901, -0.16820775290734169, 0.01857980847768425];

/** relu(x) + g(|x|) with g on [0, a], 0 beyond */
function reluPlus(g: readonly number[], a: number): PiecewiseSpec {
  return {
    breakpoints: [-a, 0, a],
    pieces: [
      { coeffs: g, on: [{ segment: 1, sign: -1 }, { segment: 2, sign: 1 }] },
      { coeffs: [0, 1], on: [{ segment: 2, sign: 1 }, { segment: 3, sign: 1 }] },
    ],
  };
}

export const SILU_SPECS = {
  fit: reluPlus(SILU_G, 8),
  mpcache: {
    breakpoints: [-8, -4, 4],
    pieces: [
      { coeffs: [-0.3067541139982155, -0.0819767021525476, -0.0055465625580307], on: [{ segment: 1, sign: 1 }] },
      { coeffs: [0.0085064025895951, 0.5, 0.228143084172827, 0, -0.011113046708173, 0, 0.0002743776353465], on: [{ segment: 2, sign: 1 }] },
      { coeffs: [0, 1], on: [{ segment: 3, sign: 1 }] },
    ],
  },
} as const satisfies Record<string, PiecewiseSpec>;

export const GELU_SPECS = {
  fit: reluPlus(GELU_H, 3.5),
  puma: {
    breakpoints: [-4, -1.95, 3],
    pieces: [
      { coeffs: [-0.5054031199708174, -0.42226581151983866, -0.11807612951181953, -0.011034134030615728], on: [{ segment: 1, sign: 1 }] },
      {
        coeffs: [0.008526321541038084, 0.5, 0.3603292692789629, 0, -0.037688200365904236, 0, 0.0018067462606141187],
        on: [{ segment: 2, sign: 1 }],
      },
      { coeffs: [0, 1], on: [{ segment: 3, sign: 1 }] },
    ],
  },
} as const satisfies Record<string, PiecewiseSpec>;

export interface SiluOptions extends PiecewiseOptions {
  /** 'fit' (default, <= 1e-2 on [-16, 16]) or 'mpcache' (the paper's polynomial) */
  readonly variant?: keyof typeof SILU_SPECS;
}
export interface GeluOptions extends PiecewiseOptions {
  /** 'fit' (default, <= 1e-2 on [-16, 16]) or 'puma' (PUMA's 4-piece polynomial) */
  readonly variant?: keyof typeof GELU_SPECS;
}

function pick<T>(specs: Record<string, T>, v: string, label: string): T {
  if (!Object.hasOwn(specs, v)) throw new RangeError(`${label}: unknown variant '${v}' (${Object.keys(specs).join(', ')})`);
  return specs[v];
}

/** SiLU(x) = x * sigmoid(x), elementwise at scale ctx.f. */
export async function silu(ctx: Context, x: ArithShare, opts: SiluOptions = {}): Promise<ArithShare> {
  return piecewise(ctx, x, pick(SILU_SPECS, opts.variant ?? 'fit', 'silu'), opts);
}

/** GeLU(x) = x * Phi(x) (the erf form), elementwise at scale ctx.f. */
export async function gelu(ctx: Context, x: ArithShare, opts: GeluOptions = {}): Promise<ArithShare> {
  return piecewise(ctx, x, pick(GELU_SPECS, opts.variant ?? 'fit', 'gelu'), opts);
}
