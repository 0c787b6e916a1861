/**
 * The accuracy harness: every policy at every budget on
 * (a) teacher-forced NLL of held-out continuations (documents the model samples itself
 *     from a seed: the first `promptLen` tokens are the prompt, the next `contLen` the
 *     continuation scored token by token with the policy acting as in generation),
 * (b) passkey retrieval (tasks.ts) at several lengths and depths: exact match of the
 *     greedy answer, measured as "every teacher-forced argmax equals the key's token",
 *     which is the same event; also the NLL of the key,
 * (c) agreement of the greedy next token with Full's at every continuation position of (a)
 *     (teacher-forced top-1 agreement).
 * Every prompt is prefilled ONCE with the full cache (the prompt's own attention does not
 * depend on the policy); each policy then runs on a fork of that session after replaying
 * the recorded prefill contexts through its onPrefill (ReferenceSession.fork).
 */
import type { AttendedContext, PlainKvHooks, PrefillContext, StepContext } from '../../models/attention-hooks.js';
import type { ReferenceModel, ReferenceSession } from '../../models/reference.js';
import type { KvPolicy } from '../policy.js';
import { BUDGET_FREE, createPolicy, NEEDS_RAZOR_HEADS, type PolicyExtras, type PolicyName } from '../plain/registry.js';
import { kiviMemoryRatio } from '../plain/kivi.js';
import { calibrateRetrievalHeads } from './duo-calibrate.js';
import { calibrateRazorHeads } from './razor-calibrate.js';
import type { EvalModel } from './load-model.js';
import { passkeyPrompt, sampleDocument } from './tasks.js';

export interface EvalSettings {
  readonly policies: readonly PolicyName[];
  readonly budgets: readonly number[];
  readonly seed: number;
  /** held-out documents */
  readonly docs: number;
  readonly promptLen: number;
  readonly contLen: number;
  readonly passkeyLengths: readonly number[];
  readonly passkeyDepths: readonly number[];
  /** passkey prompts per (length, depth) */
  readonly passkeySeeds: number;
  /** sampling temperature of the held-out documents */
  readonly temperature: number;
  /** InfLLM block size (the paper's 128 is scaled down for short contexts) */
  readonly infllmBlock: number;
}

/** Defaults sized for a 512-token model: 4 docs of 448 + 64, passkeys at 3 lengths x 3 depths. */
export function defaultSettings(ctx: number, over: Partial<EvalSettings> = {}): EvalSettings {
  const contLen = Math.min(64, Math.floor(ctx / 8));
  const promptLen = over.promptLen ?? ctx - (over.contLen ?? contLen);
  return {
    policies: over.policies ?? [],
    budgets: [0.05, 0.1, 0.2, 0.5],
    seed: 2025,
    docs: 4,
    promptLen,
    contLen,
    passkeyLengths: [Math.min(128, ctx), Math.min(256, ctx), ctx - 8],
    passkeyDepths: [0.1, 0.5, 0.9],
    passkeySeeds: 1,
    temperature: 0.9,
    // InfLLM's 128-token blocks scaled to the prompt: 16 up to 1,024 prompt tokens, 64 up to 4,096
    infllmBlock: promptLen <= 1024 ? 16 : promptLen <= 4096 ? 64 : 128,
    ...over,
  };
}

export interface EvalRow {
  readonly policy: string;
  /** budget ratio, or null for budget-free policies (Full, KIVI) */
  readonly budget: number | null;
  /** K/V memory relative to the full 16-bit cache (KIVI) or the budget (eviction) */
  readonly memory: number;
  /** mean per-token NLL over the continuations (nats) */
  readonly nll: number;
  /** nll - Full's nll */
  readonly nllDelta: number;
  /** fraction of continuation positions whose argmax equals Full's */
  readonly agreement: number;
  /** passkey exact-match rate */
  readonly passkey: number;
  /** mean NLL of the key tokens (nats per token) */
  readonly passkeyNll: number;
  /** mean cached tokens read per query head per decode step, as a fraction of the tokens so far */
  readonly readFraction: number;
  readonly seconds: number;
}

export interface EvalReport {
  readonly model: { name: string; path: string; nLayers: number; nHeads: number; nKvHeads: number; headDim: number; maxSeqLen: number };
  readonly settings: EvalSettings;
  readonly duoHeadScores: number[][];
  readonly rows: EvalRow[];
  readonly policyParams: Record<string, Readonly<Record<string, string | number | boolean>>>;
  readonly totalSeconds: number;
  readonly notes: string[];
}

export interface Progress {
  readonly done: number;
  readonly total: number;
  readonly label: string;
  readonly elapsedMs: number;
}

/** A prompt prefilled once with the full cache, with the recorded prefill contexts. */
export interface Prefilled {
  readonly session: ReferenceSession;
  readonly contexts: PrefillContext[];
  readonly logits: Float32Array;
}

export function prefillOnce(model: ReferenceModel, tokens: readonly number[]): Prefilled {
  const contexts: PrefillContext[] = [];
  const session = model.newSession({ hooks: { onPrefill: (ctx) => void contexts.push(ctx) } });
  const logits = session.prefill(tokens);
  return { session, contexts, logits };
}

/** Counts what attention reads while forwarding to the policy's hooks. */
export class Metered implements PlainKvHooks {
  read = 0;
  total = 0;
  constructor(private readonly p: KvPolicy) {}
  onPrefill(ctx: PrefillContext): void {
    this.p.onPrefill?.(ctx);
  }
  selectForStep(ctx: StepContext): readonly (Int32Array | undefined)[] | undefined {
    return this.p.selectForStep?.(ctx);
  }
  onAttention(ctx: AttendedContext): void {
    for (const a of ctx.attended) {
      this.read += a.length;
      this.total += ctx.position + 1;
    }
    this.p.onAttention?.(ctx);
  }
}

/** Runs a policy on a prefilled prompt, teacher-forcing `cont`: per-token NLL and argmax. */
export function scoreOn(pre: Prefilled, hooks: Metered, cont: readonly number[]): { nll: Float64Array; argmax: Int32Array } {
  const s = pre.session.fork({ hooks });
  pre.contexts.forEach((ctx, l) => hooks.onPrefill({ ...ctx, cache: s.cache.layer(l) }));
  let logits = pre.logits;
  const nll = new Float64Array(cont.length);
  const arg = new Int32Array(cont.length);
  for (let i = 0; i < cont.length; i++) {
    let m = -Infinity;
    let best = 0;
    for (let v = 0; v < logits.length; v++) if (logits[v] > m) {
      m = logits[v];
      best = v;
    }
    let z = 0;
    for (let v = 0; v < logits.length; v++) z += Math.exp(logits[v] - m);
    nll[i] = -(logits[cont[i]] - m - Math.log(z));
    arg[i] = best;
    if (i + 1 < cont.length) logits = s.step(cont[i]);
  }
  return { nll, argmax: arg };
}

interface Config {
  readonly policy: PolicyName;
  readonly budget: number | null;
}

/** Runs the whole evaluation. */
export function runEval(em: EvalModel, settings: EvalSettings, onProgress?: (p: Progress) => void): EvalReport {
  const t0 = performance.now();
  const { model, tokenizer } = em;
  const c = model.config;
  const notes: string[] = [];
  if (settings.promptLen + settings.contLen > c.maxSeqLen) throw new RangeError(`promptLen + contLen exceeds the model context ${c.maxSeqLen}`);
  const policies: PolicyName[] = settings.policies.includes('full') ? [...settings.policies] : ['full', ...settings.policies];
  const configs: Config[] = [];
  for (const p of policies) {
    if (BUDGET_FREE.includes(p)) configs.push({ policy: p, budget: null });
    else for (const b of settings.budgets) configs.push({ policy: p, budget: b });
  }
  const duoHeadScores = policies.includes('duo-attention')
    ? calibrateRetrievalHeads(model, tokenizer, { lengths: [Math.min(256, c.maxSeqLen - 8)], depths: [0.1, 0.3, 0.5, 0.7, 0.9], seed: settings.seed + 1_000_003 })
    : [];
  const razorHeads = policies.some((p) => NEEDS_RAZOR_HEADS.includes(p)) ? calibrateRazorHeads(model, tokenizer, { seed: settings.seed + 2_000_003 }) : undefined;
  const extras: PolicyExtras = {
    headScores: duoHeadScores.length ? duoHeadScores : undefined,
    razorHeads,
    infllm: { blockSize: settings.infllmBlock },
    // Keyformer's noisy prefill scores cost O(T^2) Gumbel draws: capped at the last 512 prompt rows
    keyformer: { steps: settings.contLen, prefillRows: 512 },
  };
  const make = (cf: Config): KvPolicy => createPolicy(cf.policy, { budget: { ratio: cf.budget ?? 1 }, model: c, seed: settings.seed }, extras);

  // the data
  const docs = Array.from({ length: settings.docs }, (_, i) =>
    sampleDocument(model, tokenizer.bos, settings.promptLen + settings.contLen, settings.seed * 31 + i, settings.temperature),
  );
  const passkeys = [];
  for (const L of settings.passkeyLengths) for (const d of settings.passkeyDepths) for (let s = 0; s < settings.passkeySeeds; s++) passkeys.push(passkeyPrompt(tokenizer, L, d, settings.seed * 977 + passkeys.length));

  interface Acc {
    nll: number;
    nTok: number;
    agree: number;
    pkHit: number;
    pkNll: number;
    pkTok: number;
    read: number;
    total: number;
    ms: number;
  }
  const acc = configs.map((): Acc => ({ nll: 0, nTok: 0, agree: 0, pkHit: 0, pkNll: 0, pkTok: 0, read: 0, total: 0, ms: 0 }));
  const totalUnits = configs.length * (docs.length + passkeys.length);
  let done = 0;
  const tick = (label: string) => onProgress?.({ done: ++done, total: totalUnits, label, elapsedMs: performance.now() - t0 });

  docs.forEach((doc, di) => {
    const prompt = doc.slice(0, settings.promptLen);
    const cont = doc.slice(settings.promptLen);
    const pre = prefillOnce(model, prompt);
    let fullArg: Int32Array | undefined;
    configs.forEach((cf, ci) => {
      const t1 = performance.now();
      const hooks = new Metered(make(cf));
      const r = scoreOn(pre, hooks, cont);
      if (cf.policy === 'full') fullArg = r.argmax;
      const a = acc[ci];
      for (let i = 0; i < cont.length; i++) {
        a.nll += r.nll[i];
        if (fullArg && r.argmax[i] === fullArg[i]) a.agree++;
      }
      a.nTok += cont.length;
      a.read += hooks.read;
      a.total += hooks.total;
      a.ms += performance.now() - t1;
      tick(`doc ${di + 1}/${docs.length} ${cf.policy}${cf.budget === null ? '' : `@${cf.budget}`}`);
    });
  });
  passkeys.forEach((pk, pi) => {
    const pre = prefillOnce(model, pk.tokens);
    configs.forEach((cf, ci) => {
      const t1 = performance.now();
      const hooks = new Metered(make(cf));
      const r = scoreOn(pre, hooks, pk.answer);
      const a = acc[ci];
      let hit = true;
      for (let i = 0; i < pk.answer.length; i++) {
        if (r.argmax[i] !== pk.answer[i]) hit = false;
        a.pkNll += r.nll[i];
      }
      a.pkTok += pk.answer.length;
      if (hit) a.pkHit++;
      a.ms += performance.now() - t1;
      tick(`passkey ${pi + 1}/${passkeys.length} ${cf.policy}${cf.budget === null ? '' : `@${cf.budget}`}`);
    });
  });

  const fullNll = acc[0].nll / acc[0].nTok;
  const policyParams: Record<string, Readonly<Record<string, string | number | boolean>>> = {};
  const rows: EvalRow[] = configs.map((cf, ci) => {
    const a = acc[ci];
    const p = make(cf);
    policyParams[cf.policy] = { kind: p.kind, gqa: p.gqa, ...p.params };
    const nll = a.nll / a.nTok;
    let memory = cf.budget ?? 1;
    if (cf.policy === 'kivi-2' || cf.policy === 'kivi-4') memory = kiviMemoryRatio(settings.promptLen, c.headDim, Number(p.params.bits), Number(p.params.group), Number(p.params.residual));
    return {
      policy: cf.policy,
      budget: cf.budget,
      memory,
      nll,
      nllDelta: nll - fullNll,
      agreement: a.agree / a.nTok,
      passkey: passkeys.length ? a.pkHit / passkeys.length : NaN,
      passkeyNll: a.pkTok ? a.pkNll / a.pkTok : NaN,
      readFraction: a.total ? a.read / a.total : 1,
      seconds: a.ms / 1000,
    };
  });
  notes.push(
    `held-out text: ${settings.docs} documents sampled from the model itself (temperature ${settings.temperature}, seed ${settings.seed}); prompt ${settings.promptLen} tokens, continuation ${settings.contLen}`,
    `passkey: lengths ${settings.passkeyLengths.join('/')}, depths ${settings.passkeyDepths.join('/')}, ${settings.passkeySeeds} key(s) each; exact match of the greedy answer`,
    'agreement: teacher-forced top-1 agreement with Full over the continuation positions',
    'budgets are fractions of the prompt length; readFraction = cached tokens attention actually read per head per decode step / tokens so far',
  );
  return {
    model: { name: em.name, path: em.path, nLayers: c.nLayers, nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim, maxSeqLen: c.maxSeqLen },
    settings: { ...settings, policies },
    duoHeadScores,
    rows,
    policyParams,
    totalSeconds: (performance.now() - t0) / 1000,
    notes,
  };
}
