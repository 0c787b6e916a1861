/**
 * Secret-sharing a model's weights: the model owner (party 0 by default) turns its
 * ModelWeights into arithmetic shares once per session; the other parties know only the
 * ModelConfig (the architecture is public, the weights are secret).
 *
 * What the shared tensors are (all fixed point at ctx.f, row-major [out][in] as in weights.ts;
 * `securePlan` lists them for a config):
 *   embedding [vocab, dim]                  token embedding (also the output head when tied); for
 *                                           LayerNorm models the rows are CENTRED (see below) and,
 *                                           when tied, a last column holds each row's mean: [vocab, dim + 1]
 *   output    [vocab, dim]                  untied output head (the same share as `embedding` when tied)
 *   positionEmbedding [maxSeqLen, dim]      learned positions (centred rows for LayerNorm)
 *   finalNorm [dim]                         final norm gain times sqrt(rho) (see below); finalNormBias [dim] (LayerNorm)
 *   per layer:
 *     wqkv [nHeads*hd + 2*nKvHeads*hd, dim] rows of wq, wk, wv stacked, each COLUMN i scaled by
 *                                           attnNorm[i] * sqrt(rho); with learned positions the q
 *                                           rows also by 1/sqrt(hd) (RoPE models fold it into the
 *                                           public RoPE multipliers instead)
 *     bqkv [nHeads*hd + 2*nKvHeads*hd]      q|k|v biases plus, for LayerNorm, W b (the norm's bias pushed
 *                                           through the projection); absent when both are absent
 *     qkNorm [nHeads*hd + nKvHeads*hd]      per-head q/k RMSNorm gains times sqrt(rho(hd)), repeated per head (qkNorm)
 *     wo   [dim, nHeads*hd], bo [dim]       (centred along the output for LayerNorm)
 *     w13  [2*hiddenDim, dim]               rows of w1 (gate) then w3 (up), columns scaled by ffnNorm[i]
 *                                           * sqrt(rho); [hiddenDim, dim] (w1 only) for the GeLU MLP
 *     b13                                   the matching biases (+ W b for LayerNorm)
 *     w2   [dim, hiddenDim], b2 [dim]       (centred along the output for LayerNorm)
 * Folding a norm's gain (and bias) into the next matrix is exact algebra (W (g * n + b) + c =
 * (W diag g) n + (W b + c)), done by the owner before sharing; it saves a secure
 * multiplication per norm. rho = dim / 2^floor(log2 dim) in [1, 2) comes from the secure
 * RMSNorm (secure-layers.ts), which divides the sum of squares by 2^floor(log2 dim) (a
 * truncation) instead of by dim and puts the remaining factor sqrt(rho) into the gains.
 * LayerNorm without a secure mean: every read of the residual stream x goes through a
 * LayerNorm, and LayerNorm(x) = LayerNorm(x - mean(x)). The owner centres every vector that is
 * ADDED to the stream (token and position embedding rows, the columns of wo and w2 and their
 * biases: C v = v - mean(v)), so the stream the parties hold is always centred and LayerNorm is
 * the RMSNorm of it (same eps) followed by the folded gain and bias: no extra round, exact
 * algebra. The tied head still needs the original embedding E = C E + mean(E) 1^T: logits =
 * (C E) h + mean(E) sum(h), i.e. the [vocab, dim + 1] share against [h, sum(h)] (local sum).
 * All of it is a public function of the public config, so every party knows the layout; only
 * the values are secret.
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
import { type ModelConfig, isGated, kvDim, qDim, sameConfig, validateConfig } from './config.js';
import { type ModelWeights, validateWeights } from './weights.js';

export interface SecureLayerWeights {
  /** [qDim + 2 kvDim, dim], attention-norm gain folded into the columns */
  readonly wqkv: ArithShare;
  /** [qDim + 2 kvDim] (qkvBias or LayerNorm) */
  readonly bqkv?: ArithShare;
  /** [qDim + kvDim]: q/k RMSNorm gains per head (qkNorm) */
  readonly qkNorm?: ArithShare;
  /** [dim, qDim] */
  readonly wo: ArithShare;
  /** [dim] (outBias) */
  readonly bo?: ArithShare;
  /** [2 hiddenDim, dim] (gate rows then up rows) or [hiddenDim, dim] (GeLU MLP), FFN-norm gain folded into the columns */
  readonly w13: ArithShare;
  /** [2 hiddenDim] or [hiddenDim] (ffnBias or LayerNorm) */
  readonly b13?: ArithShare;
  /** [dim, hiddenDim] */
  readonly w2: ArithShare;
  /** [dim] (ffnBias) */
  readonly b2?: ArithShare;
}

/** A model whose weights are secret-shared; the config is public. */
export interface SecureModel {
  readonly config: ModelConfig;
  /** [vocab, dim], or [vocab, dim + 1] (centred rows and their means) for a tied LayerNorm model */
  readonly embedding: ArithShare;
  /** [vocab, dim] or, tied, the same object as `embedding` */
  readonly output: ArithShare;
  /** [maxSeqLen, dim] (learned positions) */
  readonly positionEmbedding?: ArithShare;
  /** [dim], final gain times sqrt(normRho(dim)) */
  readonly finalNorm: ArithShare;
  /** [dim] (LayerNorm) */
  readonly finalNormBias?: ArithShare;
  readonly layers: readonly SecureLayerWeights[];
}

export interface ShareModelOptions {
  /** the party holding the weights (default 0, the model owner of docs/PROTOCOLS.md) */
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

/** The secure model's per-layer tensors, in sharing order. */
export type SecureLayerTensor = keyof SecureLayerWeights;
/** The model-level tensors, in sharing order. */
export type SecureModelTensor = 'embedding' | 'output' | 'positionEmbedding' | 'finalNorm' | 'finalNormBias';

export interface TensorPlan {
  /** model-level tensor, or a layer's (with `layer`) */
  readonly name: SecureModelTensor | SecureLayerTensor;
  /** the layer (undefined for model-level tensors) */
  readonly layer?: number;
  readonly shape: Shape;
  /** the owner's values, computed lazily (only on the owner) */
  readonly values: () => Float64Array;
}

/** The shared embedding has the extra mean column (tied LayerNorm model, see the header). */
export function embeddingHasMeanColumn(c: ModelConfig): boolean {
  return c.norm === 'layer' && c.tiedEmbeddings;
}

/** Float64 copy of `parts` stacked by rows, each COLUMN i multiplied by colScale[i] and each row r of part p by rowScale[p]. */
function stackScaled(parts: readonly Float32Array[], cols: number, colScale: Float64Array | undefined, rowScale: readonly number[] = []): Float64Array {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float64Array(total);
  let off = 0;
  parts.forEach((p, k) => {
    const r = rowScale[k] ?? 1;
    for (let i = 0; i < p.length; i++) out[off + i] = p[i] * (colScale === undefined ? 1 : colScale[i % cols]) * r;
    off += p.length;
  });
  return out;
}

/** Rows of `m` [rows][cols] minus their mean (C applied to each row). */
function centreRows(m: Float64Array, cols: number): Float64Array {
  for (let o = 0; o < m.length; o += cols) {
    let s = 0;
    for (let i = 0; i < cols; i++) s += m[o + i];
    s /= cols;
    for (let i = 0; i < cols; i++) m[o + i] -= s;
  }
  return m;
}

/** Columns of `m` [rows][cols] minus their mean over the rows (C applied to the output of y = m x). */
function centreColumns(m: Float64Array, rows: number, cols: number): Float64Array {
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) mean[i] += m[r * cols + i];
  for (let i = 0; i < cols; i++) mean[i] /= rows;
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) m[r * cols + i] -= mean[i];
  return m;
}

/** y = W b + bias (row r: sum_i W[r][i] b[i], plus bias[r]); either part may be absent. */
function foldBias(wRows: readonly Float32Array[], cols: number, b: Float32Array | undefined, bias: readonly (Float32Array | undefined)[], rowScale: readonly number[] = []): Float64Array {
  const n = wRows.reduce((a, p) => a + p.length / cols, 0);
  const out = new Float64Array(n);
  let o = 0;
  wRows.forEach((W, k) => {
    const rows = W.length / cols;
    const r0 = rowScale[k] ?? 1;
    for (let r = 0; r < rows; r++) {
      let s = bias[k]?.[r] ?? 0;
      if (b !== undefined) for (let i = 0; i < cols; i++) s += W[r * cols + i] * b[i];
      out[o++] = s * r0;
    }
  });
  return out;
}

/**
 * The list of tensors in sharing order (embedding, [output], [positionEmbedding], finalNorm,
 * [finalNormBias], then per layer wqkv, [bqkv], [qkNorm], wo, [bo], w13, [b13], w2, [b2]).
 * `w` is given only on the owner.
 */
export function securePlan(c: ModelConfig, w?: ModelWeights): TensorPlan[] {
  const d = c.dim;
  const s = Math.sqrt(normRho(d));
  const hd = c.headDim;
  const layerNorm = c.norm === 'layer';
  const need = (): ModelWeights => {
    if (w === undefined) throw new Error('internal: owner values requested without weights');
    return w;
  };
  const gain = (g: Float32Array, by = s): Float64Array => Float64Array.from(g, (v) => v * by);
  const qs = c.positions === 'learned' ? [1 / Math.sqrt(hd), 1, 1] : [];
  const out: TensorPlan[] = [];
  const emb = (): Float64Array => {
    const E = Float64Array.from(need().tokenEmbedding);
    if (!layerNorm) return E;
    const means = new Float64Array(c.vocabSize);
    for (let v = 0; v < c.vocabSize; v++) {
      let t = 0;
      for (let i = 0; i < d; i++) t += E[v * d + i];
      means[v] = t / d;
    }
    centreRows(E, d);
    if (!embeddingHasMeanColumn(c)) return E;
    const X = new Float64Array(c.vocabSize * (d + 1));
    for (let v = 0; v < c.vocabSize; v++) {
      X.set(E.subarray(v * d, (v + 1) * d), v * (d + 1));
      X[v * (d + 1) + d] = means[v];
    }
    return X;
  };
  out.push({ name: 'embedding', shape: [c.vocabSize, embeddingHasMeanColumn(c) ? d + 1 : d], values: emb });
  if (!c.tiedEmbeddings) out.push({ name: 'output', shape: [c.vocabSize, d], values: () => Float64Array.from(need().output) });
  if (c.positions === 'learned') {
    out.push({ name: 'positionEmbedding', shape: [c.maxSeqLen, d], values: () => {
      const P = Float64Array.from(need().positionEmbedding as Float32Array);
      return layerNorm ? centreRows(P, d) : P;
    } });
  }
  out.push({ name: 'finalNorm', shape: [d], values: () => gain(need().finalNorm) });
  if (layerNorm) out.push({ name: 'finalNormBias', shape: [d], values: () => Float64Array.from(need().finalNormBias as Float32Array) });
  const gated = isGated(c);
  const ffnRows = gated ? 2 * c.hiddenDim : c.hiddenDim;
  const qkvRows = qDim(c) + 2 * kvDim(c);
  for (let l = 0; l < c.nLayers; l++) {
    const L = () => need().layers[l];
    const ffnParts = () => (gated ? [L().w1, L().w3 as Float32Array] : [L().w1]);
    const add = (name: SecureLayerTensor, shape: Shape, values: () => Float64Array): void => {
      out.push({ name, layer: l, shape, values });
    };
    add('wqkv', [qkvRows, d], () => stackScaled([L().wq, L().wk, L().wv], d, gain(L().attnNorm), qs));
    if (c.qkvBias || layerNorm) add('bqkv', [qkvRows], () => foldBias([L().wq, L().wk, L().wv], d, L().attnNormBias, [L().bq, L().bk, L().bv], qs));
    if (c.qkNorm) {
      add('qkNorm', [qDim(c) + kvDim(c)], () => {
        const sh = Math.sqrt(normRho(hd));
        const g = new Float64Array(qDim(c) + kvDim(c));
        for (let h = 0; h < c.nHeads + c.nKvHeads; h++) g.set(gain(h < c.nHeads ? (L().qNorm as Float32Array) : (L().kNorm as Float32Array), sh), h * hd);
        return g;
      });
    }
    add('wo', [d, qDim(c)], () => {
      const m = stackScaled([L().wo], qDim(c), undefined);
      return layerNorm ? centreColumns(m, d, qDim(c)) : m;
    });
    if (c.outBias) add('bo', [d], () => {
      const b = Float64Array.from(L().bo as Float32Array);
      return layerNorm ? centreRows(b, d) : b;
    });
    add('w13', [ffnRows, d], () => stackScaled(ffnParts(), d, gain(L().ffnNorm)));
    if (c.ffnBias || layerNorm) add('b13', [ffnRows], () => foldBias(ffnParts(), d, L().ffnNormBias, gated ? [L().b1, L().b3] : [L().b1]));
    add('w2', [d, c.hiddenDim], () => {
      const m = stackScaled([L().w2], c.hiddenDim, undefined);
      return layerNorm ? centreColumns(m, d, c.hiddenDim) : m;
    });
    if (c.ffnBias) add('b2', [d], () => {
      const b = Float64Array.from(L().b2 as Float32Array);
      return layerNorm ? centreRows(b, d) : b;
    });
  }
  return out;
}

/** Puts shares (one per securePlan entry, in its order) together as a SecureModel. */
export function assembleSecureModel(c: ModelConfig, shares: readonly ArithShare[]): SecureModel {
  const plan = securePlan(c);
  if (shares.length !== plan.length) throw new RangeError(`expected ${plan.length} shares, got ${shares.length}`);
  const top: Partial<Record<SecureModelTensor, ArithShare>> = {};
  const layers: Partial<Record<SecureLayerTensor, ArithShare>>[] = Array.from({ length: c.nLayers }, () => ({}));
  plan.forEach((t, i) => {
    const sh = shares[i];
    if (sh.shape.length !== t.shape.length || sh.shape.some((n, k) => n !== t.shape[k])) {
      throw new RangeError(`share ${i} (${t.name}) has shape [${sh.shape.join(', ')}], expected [${t.shape.join(', ')}]`);
    }
    if (t.layer === undefined) top[t.name as SecureModelTensor] = sh;
    else layers[t.layer][t.name as SecureLayerTensor] = sh;
  });
  const embedding = top.embedding as ArithShare;
  return {
    config: c,
    embedding,
    output: c.tiedEmbeddings ? embedding : (top.output as ArithShare),
    finalNorm: top.finalNorm as ArithShare,
    ...(top.positionEmbedding === undefined ? {} : { positionEmbedding: top.positionEmbedding }),
    ...(top.finalNormBias === undefined ? {} : { finalNormBias: top.finalNormBias }),
    layers: layers as SecureLayerWeights[],
  };
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
  const tensors = securePlan(c, isOwner ? weights : undefined);
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
  return assembleSecureModel(c, shares);
}

/** Number of ring elements each party holds twice (s0, s1) for a shared model: what its memory costs (x 16 bytes). */
export function sharedParameterCount(c: ModelConfig): number {
  return securePlan(c).reduce((a, t) => a + size(t.shape), 0);
}
