/**
 * The calibration of LoCoCo's fusion kernels (lococo.ts): the loss, its gradient (by hand) and
 * an Adam loop, in float64 on CPU. One compression event is a KV head's prompt prefix (keys,
 * values, accumulated attention) squeezed to M entries; its loss is the squared error of the
 * attention output of the next queries over the compressed prefix against the full prefix,
 * divided by the squared norm of the full outputs. scripts/calibrate-lococo.ts builds the events
 * from documents sampled from a model and writes eviction/plain/lococo-kernels.json.
 */
import { LOCOCO_LOCAL_SHARE, type LococoKernel, lococoFuse, lococoPartition, sigmoid } from './lococo.js';

export interface LococoEvent {
  readonly d: number;
  /** prefix keys / values, n x d (post-RoPE keys, as cached) */
  readonly keys: Float64Array;
  readonly values: Float64Array;
  readonly acc: Float64Array;
  readonly n: number;
  /** cache size after the compression */
  readonly M: number;
  /** later queries of the KV head's query heads, rows of d */
  readonly queries: readonly Float64Array[];
}

interface Prepared {
  readonly ev: LococoEvent;
  readonly kE: Float64Array;
  readonly vE: Float64Array;
  readonly nE: number;
  readonly anchors: Int32Array;
  readonly kH: Float64Array;
  readonly vH: Float64Array;
  readonly nH: number;
  readonly targets: Float64Array[];
  readonly norm: number;
}

function attend(q: Float64Array, K: ArrayLike<number>, V: ArrayLike<number>, n: number, d: number): { o: Float64Array; p: Float64Array } {
  const p = new Float64Array(n);
  let mx = -Infinity;
  const scale = 1 / Math.sqrt(d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += q[c] * K[i * d + c];
    p[i] = s * scale;
    mx = Math.max(mx, p[i]);
  }
  let z = 0;
  for (let i = 0; i < n; i++) z += p[i] = Math.exp(p[i] - mx);
  const o = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    p[i] /= z;
    for (let c = 0; c < d; c++) o[c] += p[i] * V[i * d + c];
  }
  return { o, p };
}

/** Splits an event into heavy hitters and the entries to fuse, and computes the full-prefix targets. */
export function prepareEvent(ev: LococoEvent, hhKeepRate: number): Prepared {
  const { d, n } = ev;
  const { hh, rest, anchors } = lococoPartition(ev.acc, n, ev.M, hhKeepRate, LOCOCO_LOCAL_SHARE);
  const take = (idx: Int32Array, A: Float64Array) => {
    const out = new Float64Array(idx.length * d);
    idx.forEach((i, j) => out.set(A.subarray(i * d, i * d + d), j * d));
    return out;
  };
  const targets = ev.queries.map((q) => attend(q, ev.keys, ev.values, n, d).o);
  let norm = 0;
  for (const t of targets) for (const v of t) norm += v * v;
  return { ev, kE: take(rest, ev.keys), vE: take(rest, ev.values), nE: rest.length, anchors, kH: take(hh, ev.keys), vH: take(hh, ev.values), nH: hh.length, targets, norm: Math.max(norm, 1e-12) };
}

export interface LococoGrad {
  readonly loss: number;
  readonly w: Float64Array;
  readonly u: Float64Array;
  readonly logitLambda: number;
}

/** Loss and gradient of one prepared event for kernel k. */
export function lococoLossGrad(pe: Prepared, k: LococoKernel): LococoGrad {
  const d = pe.ev.d;
  const K = k.kernel;
  const h = (K - 1) / 2;
  const lambda = sigmoid(k.logitLambda);
  const f = lococoFuse(pe.kE, pe.vE, pe.nE, d, pe.anchors, k, lambda);
  const C = pe.anchors.length;
  const nc = pe.nH + C;
  const Kc = new Float64Array(nc * d);
  const Vc = new Float64Array(nc * d);
  Kc.set(pe.kH);
  Vc.set(pe.vH);
  Kc.set(f.K, pe.nH * d);
  Vc.set(f.V, pe.nH * d);
  const dKc = new Float64Array(nc * d);
  const dVc = new Float64Array(nc * d);
  const scale = 1 / Math.sqrt(d);
  let loss = 0;
  pe.ev.queries.forEach((q, qi) => {
    const { o, p } = attend(q, Kc, Vc, nc, d);
    const dO = new Float64Array(d);
    for (let c = 0; c < d; c++) {
      const diff = o[c] - pe.targets[qi][c];
      loss += (diff * diff) / pe.norm;
      dO[c] = (2 * diff) / pe.norm;
    }
    const dP = new Float64Array(nc);
    let dot = 0;
    for (let i = 0; i < nc; i++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        s += dO[c] * Vc[i * d + c];
        dVc[i * d + c] += p[i] * dO[c];
      }
      dP[i] = s;
      dot += p[i] * s;
    }
    for (let i = 0; i < nc; i++) {
      const dS = p[i] * (dP[i] - dot) * scale;
      for (let c = 0; c < d; c++) dKc[i * d + c] += dS * q[c];
    }
  });
  const dc = new Float64Array(pe.nE);
  const du = new Float64Array(K);
  let dLambda = 0;
  for (let m = 0; m < C; m++) {
    const a = pe.anchors[m];
    const lo = Math.max(0, a - h);
    const hi = Math.min(pe.nE - 1, a + h);
    const off = (pe.nH + m) * d;
    const dW = new Float64Array(hi - lo + 1);
    for (let t = lo; t <= hi; t++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += dKc[off + c] * pe.kE[t * d + c] + dVc[off + c] * pe.vE[t * d + c];
      dW[t - lo] = s;
      dLambda += s * (f.S[m * pe.nE + t] - (t === a ? 1 : 0));
    }
    let sdot = 0;
    for (let t = lo; t <= hi; t++) sdot += f.S[m * pe.nE + t] * lambda * dW[t - lo];
    for (let t = lo; t <= hi; t++) {
      const dz = f.S[m * pe.nE + t] * (lambda * dW[t - lo] - sdot);
      du[t - a + h] += dz;
      dc[t] += dz;
    }
  }
  const dw = new Float64Array(2 * d * K);
  for (let t = 0; t < pe.nE; t++) {
    if (dc[t] === 0) continue;
    for (let j = 0; j < K; j++) {
      const src = t + j - h;
      if (src < 0 || src >= pe.nE) continue;
      for (let c = 0; c < d; c++) {
        dw[c * K + j] += dc[t] * pe.kE[src * d + c];
        dw[(d + c) * K + j] += dc[t] * pe.vE[src * d + c];
      }
    }
  }
  return { loss, w: dw, u: du, logitLambda: dLambda * lambda * (1 - lambda) };
}

export interface CalibrateOptions {
  readonly kernel: number;
  readonly steps: number;
  readonly lr: number;
  readonly hhKeepRate: number;
}

/** Adam on the summed loss of the events (all of one layer), from w = 0, u = 0, lambda = 0.5. */
export function calibrateLococoLayer(events: readonly LococoEvent[], d: number, o: CalibrateOptions): { kernel: LococoKernel; lossStart: number; lossEnd: number } {
  const prepared = events.map((e) => prepareEvent(e, o.hhKeepRate));
  const nw = 2 * d * o.kernel;
  const theta = new Float64Array(nw + o.kernel + 1);
  const m1 = new Float64Array(theta.length);
  const m2 = new Float64Array(theta.length);
  const asKernel = (): LococoKernel => ({ kernel: o.kernel, w: Array.from(theta.subarray(0, nw)), u: Array.from(theta.subarray(nw, nw + o.kernel)), logitLambda: theta[nw + o.kernel] });
  const evalAll = () => {
    const g = new Float64Array(theta.length);
    let loss = 0;
    for (const pe of prepared) {
      const r = lococoLossGrad(pe, asKernel());
      loss += r.loss / prepared.length;
      for (let i = 0; i < nw; i++) g[i] += r.w[i] / prepared.length;
      for (let i = 0; i < o.kernel; i++) g[nw + i] += r.u[i] / prepared.length;
      g[nw + o.kernel] += r.logitLambda / prepared.length;
    }
    return { loss, g };
  };
  const lossStart = evalAll().loss;
  for (let step = 1; step <= o.steps; step++) {
    const { g } = evalAll();
    for (let i = 0; i < theta.length; i++) {
      m1[i] = 0.9 * m1[i] + 0.1 * g[i];
      m2[i] = 0.999 * m2[i] + 0.001 * g[i] * g[i];
      const mh = m1[i] / (1 - 0.9 ** step);
      const vh = m2[i] / (1 - 0.999 ** step);
      theta[i] -= (o.lr * mh) / (Math.sqrt(vh) + 1e-8);
    }
  }
  return { kernel: asKernel(), lossStart, lossEnd: evalAll().loss };
}
