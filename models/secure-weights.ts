/**
 * Secret-sharing a model's weights: the model owner (party 0 by default) turns its
 * ModelWeights into arithmetic shares once per session; the other parties know only the
 * ModelConfig (the architecture is public, the weights are secret).
 *
 * What the shared tensors are (all fixed point at ctx.f, row-major [out][in] as in weights.ts):
 *   embedding [vocab, dim]                       token embedding (also the output head when tied)
 *   output    [vocab, dim]                       untied output head (the same share as `embedding` when tied)
 *   finalNorm [dim]                              final RMSNorm gain times sqrt(rho) (see below)
 *   per layer:
 *     wqkv [nHeads*hd + 2*nKvHeads*hd, dim]      rows of wq, wk, wv stacked, each COLUMN i scaled by
 *                                                attnNorm[i] * sqrt(rho)
 *     wo   [dim, nHeads*hd]
 *     w13  [2*hiddenDim, dim]                    rows of w1 (gate) then w3 (up), columns scaled by
 *                                                ffnNorm[i] * sqrt(rho)
 *     w2   [dim, hiddenDim]
 * Folding the RMSNorm gain into the next matrix is exact algebra (W diag(g) x = W (g * x)),
 * done by the owner before sharing; it saves one secure multiplication per norm. rho =
 * dim / 2^floor(log2 dim) in [1, 2) comes from the secure RMSNorm (secure-layers.ts), which
 * divides the sum of squares by 2^floor(log2 dim) (a truncation) instead of by dim and puts
 * the remaining factor sqrt(rho) into the gains. Both are public functions of the public
 * config, so every party knows the layout; only the values are secret.
 *
 * Cost: the owner sends 64 bits per parameter to one party (protocols/sharing.ts inputMany);
 * tensors are grouped so that one round carries at most `maxRoundWords` words (one round for
 * small models such as stories260K; the WebSocket frame limit bounds a round for big ones).
 * Reveals nothing (inputMany's masking).
 */
import type { PartyId } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import { inputMany } from '../protocols/sharing.js';
import type { ArithShare, Shape } from '../protocols/types.js';
import { type ModelConfig, kvDim, qDim, validateConfig } from './config.js';
import { type ModelWeights, validateWeights } from './weights.js';

export interface SecureLayerWeights {
  /** [qDim + 2 kvDim, dim], attention-norm gain folded into the columns */
  readonly wqkv: ArithShare;
  /** [dim, qDim] */
  readonly wo: ArithShare;
  /** [2 hiddenDim, dim] (gate rows then up rows), FFN-norm gain folded into the columns */
  readonly w13: ArithShare;
  /** [dim, hiddenDim] */
  readonly w2: ArithShare;
}

/** A model whose weights are secret-shared; the config is public. */
export interface SecureModel {
  readonly config: ModelConfig;
  /** [vocab, dim] */
  readonly embedding: ArithShare;
  /** [vocab, dim]; the same object as `embedding` when config.tiedEmbeddings */
  readonly output: ArithShare;
  /** [dim], final gain times sqrt(normRho(dim)) */
  readonly finalNorm: ArithShare;
  readonly layers: readonly SecureLayerWeights[];
}

export interface ShareModelOptions {
  /** the party holding the weights (default 0, the model owner of PROTOCOLS.md) */
  readonly owner?: PartyId;
  /** most words sent in one round (default 2^24 = 128 MiB); a tensor larger than this travels alone */
  readonly maxRoundWords?: number;
}

/** log2 of the power of two the secure RMSNorm divides the sum of squares by: floor(log2 dim). */
export function normShift(dim: number): number {
  if (!Number.isSafeInteger(dim) || dim <= 0) throw new RangeError(`dim must be a positive integer, got ${dim}`);
  return Math.floor(Math.log2(dim));
}

/** rho = dim / 2^normShift(dim), in [1, 2): mean(x^2) = (sum(x^2) / 2^normShift) / rho. */
export function normRho(dim: number): number {
  return dim / 2 ** normShift(dim);
}

interface TensorPlan {
  readonly shape: Shape;
  /** the owner's values, computed lazily (only on the owner) */
  readonly values: () => Float64Array;
}

function stackScaled(parts: readonly Float32Array[], cols: number, colScale: Float64Array | undefined): Float64Array {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float64Array(total);
  let off = 0;
  for (const p of parts) {
    if (colScale === undefined) {
      for (let i = 0; i < p.length; i++) out[off + i] = p[i];
    } else {
      for (let i = 0; i < p.length; i++) out[off + i] = p[i] * colScale[i % cols];
    }
    off += p.length;
  }
  return out;
}

/**
 * The list of tensors in sharing order (embedding, [output], finalNorm, then per layer wqkv,
 * wo, w13, w2). `w` is given only on the owner.
 */
function plan(c: ModelConfig, w: ModelWeights | undefined): TensorPlan[] {
  const d = c.dim;
  const s = Math.sqrt(normRho(d));
  const need = (): ModelWeights => {
    if (w === undefined) throw new Error('internal: owner values requested without weights');
    return w;
  };
  const gain = (g: Float32Array): Float64Array => Float64Array.from(g, (v) => v * s);
  const out: TensorPlan[] = [{ shape: [c.vocabSize, d], values: () => Float64Array.from(need().tokenEmbedding) }];
  if (!c.tiedEmbeddings) out.push({ shape: [c.vocabSize, d], values: () => Float64Array.from(need().output) });
  out.push({ shape: [d], values: () => gain(need().finalNorm) });
  for (let l = 0; l < c.nLayers; l++) {
    const L = () => need().layers[l];
    out.push(
      { shape: [qDim(c) + 2 * kvDim(c), d], values: () => stackScaled([L().wq, L().wk, L().wv], d, gain(L().attnNorm)) },
      { shape: [d, qDim(c)], values: () => stackScaled([L().wo], qDim(c), undefined) },
      { shape: [2 * c.hiddenDim, d], values: () => stackScaled([L().w1, L().w3], d, gain(L().ffnNorm)) },
      { shape: [d, c.hiddenDim], values: () => stackScaled([L().w2], c.hiddenDim, undefined) },
    );
  }
  return out;
}

const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/**
 * Secret-share a model. Every party calls it with the same public `config`; only the owner
 * passes `weights` (whose config must equal `config`). Returns each party's shares.
 */
export async function shareModel(ctx: Context, config: ModelConfig, weights?: ModelWeights, opts: ShareModelOptions = {}): Promise<SecureModel> {
  const c = validateConfig(config);
  const owner = opts.owner ?? 0;
  if (owner !== 0 && owner !== 1 && owner !== 2) throw new RangeError(`owner must be 0, 1 or 2, got ${String(owner)}`);
  const maxRoundWords = opts.maxRoundWords ?? 2 ** 24;
  if (!Number.isSafeInteger(maxRoundWords) || maxRoundWords <= 0) throw new RangeError(`maxRoundWords must be a positive integer, got ${maxRoundWords}`);
  const isOwner = ctx.party === owner;
  if (isOwner) {
    if (weights === undefined) throw new TypeError(`weights: the owner (party ${owner}) must pass the model weights`);
    validateWeights(weights);
    if (!sameConfig(weights.config, c)) throw new RangeError('weights: weights.config differs from the public config');
  } else if (weights !== undefined) {
    throw new TypeError(`weights: only the owner (party ${owner}) passes weights`);
  }
  const tensors = plan(c, isOwner ? weights : undefined);
  const shares: ArithShare[] = [];
  let group: TensorPlan[] = [];
  let words = 0;
  const flush = async (): Promise<void> => {
    if (group.length === 0) return;
    const items = group.map((t) => ({ shape: t.shape, values: isOwner ? t.values() : undefined }));
    shares.push(...(await inputMany(ctx, owner, items)));
    group = [];
    words = 0;
  };
  for (const t of tensors) {
    const n = size(t.shape);
    if (words > 0 && words + n > maxRoundWords) await flush();
    group.push(t);
    words += n;
  }
  await flush();
  let i = 0;
  const embedding = shares[i++];
  const output = c.tiedEmbeddings ? embedding : shares[i++];
  const finalNorm = shares[i++];
  const layers: SecureLayerWeights[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    layers.push({ wqkv: shares[i++], wo: shares[i++], w13: shares[i++], w2: shares[i++] });
  }
  return { config: c, embedding, output, finalNorm, layers };
}

/** Number of ring elements each party holds twice (s0, s1) for a shared model: what its memory costs (x 16 bytes). */
export function sharedParameterCount(c: ModelConfig): number {
  return plan(c, undefined).reduce((a, t) => a + size(t.shape), 0);
}

function sameConfig(a: ModelConfig, b: ModelConfig): boolean {
  const keys: (keyof ModelConfig)[] = ['dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'vocabSize', 'maxSeqLen', 'normEps', 'ropeTheta', 'tiedEmbeddings', 'headDim'];
  return keys.every((k) => a[k] === b[k]);
}
