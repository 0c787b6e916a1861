/**
 * The plaintext policies by name, for the eval harness and the CLI.
 */
import type { KvPolicy, PolicyOptions } from '../policy.js';
import { d2oPolicy, type D2oOptions } from './d2o.js';
import { duoAttentionPolicy } from './duo-attention.js';
import { emsPolicy, type EmsOptions } from './ems.js';
import { fullPolicy } from './full.js';
import { h2oPolicy } from './h2o.js';
import { infllmPolicy, type InfLlmOptions } from './infllm.js';
import { keyformerPolicy, type KeyformerOptions } from './keyformer.js';
import { kiviPolicy } from './kivi.js';
import { MPCACHE_DEFAULTS, mpcachePolicy, type MpCacheOptions } from './mpcache.js';
import { mpcachePaperPolicy, type MpCachePaperOptions } from './mpcache-paper.js';
import { kvCrushPolicy, type KvCrushOptions } from './kvcrush.js';
import { kvHeadMergePolicy } from './kv-head-merge.js';
import { kvMergerPolicy, type KvMergerOptions } from './kvmerger.js';
import { miniCachePolicy, type MiniCacheOptions } from './minicache.js';
import { pyramidKvPolicy } from './pyramidkv.js';
import { questPolicy, type QuestOptions } from './quest.js';
import { razorAttentionPolicy, type RazorAttentionOptions, type RazorHeadScores } from './razor-attention.js';
import { scissorhandsPolicy } from './scissorhands.js';
import { snapKvPolicy } from './snapkv.js';
import { streamingLlmPolicy } from './streaming-llm.js';
import { tovaPolicy } from './tova.js';
import { bfpKsortPolicy } from './bfp-ksort.js';
import { gearPolicy } from './gear.js';
import { kvquantPolicy } from './kvquant.js';
import { mikvPolicy } from './mikv.js';
import { rotatekvPolicy } from './rotatekv.js';
import { zipcachePolicy } from './zipcache.js';
import { a2atsPolicy } from './a2ats.js';
import { actqkvPolicy } from './actqkv.js';
import { cskvPolicy } from './cskv.js';
import { lococoPolicy } from './lococo.js';
import { matryoshkaKvPolicy } from './matryoshkakv.js';
import { shadowkvPolicy } from './shadowkv.js';

export const POLICY_NAMES = [
  'full',
  'streaming-llm',
  'h2o',
  'snapkv',
  'pyramidkv',
  'tova',
  'scissorhands',
  'keyformer',
  'quest',
  'infllm',
  'duo-attention',
  'kivi-2',
  'kivi-4',
  'mpcache',
  'mpcache-v1',
  'mpcache-static',
  'mpcache-dynamic',
  'mpcache-noshare',
  'mpcache-unscaled',
  'mpcache-max',
  'mpcache-paper',
  // merging and head-similarity (issue 17)
  'minicache',
  'kvmerger',
  'd2o',
  'ems',
  'kvcrush',
  'razor-attention',
  'kv-head-merge',
  // issue 17, quantization (plainq)
  'kvquant-2',
  'kvquant-4',
  'zipcache',
  'mikv',
  'rotatekv-2',
  'gear-2',
  'gear-4',
  'bfp-ksort',
  // issue 17, retrieval and low-rank (plainq)
  'shadowkv',
  'a2ats',
  'actqkv',
  'cskv',
  'matryoshkakv',
  'lococo',
] as const;

export type PolicyName = (typeof POLICY_NAMES)[number];

/** Policies whose result does not depend on the budget (run once per model). */
export const BUDGET_FREE: readonly PolicyName[] = ['full', 'kivi-2', 'kivi-4', 'kvquant-2', 'kvquant-4', 'zipcache', 'rotatekv-2', 'gear-2', 'gear-4', 'bfp-ksort'];

/** Policies that need RazorAttention's echo/induction head scores (PolicyExtras.razorHeads). */
export const NEEDS_RAZOR_HEADS: readonly PolicyName[] = ['razor-attention'];

/** Per-policy extra options the registry forwards. */
export interface PolicyExtras {
  /** DuoAttention head ranking [layer][kvHead] (required for 'duo-attention') */
  readonly headScores?: readonly ArrayLike<number>[];
  readonly keyformer?: Partial<Omit<KeyformerOptions, keyof PolicyOptions>>;
  readonly infllm?: Partial<Omit<InfLlmOptions, keyof PolicyOptions>>;
  readonly quest?: Partial<Omit<QuestOptions, keyof PolicyOptions>>;
  readonly mpcache?: Partial<Omit<MpCacheOptions, keyof PolicyOptions>>;
  readonly mpcachePaper?: Partial<Omit<MpCachePaperOptions, keyof PolicyOptions>>;
  /** RazorAttention echo / induction scores (required for 'razor-attention'; eviction/eval/razor-calibrate.ts) */
  readonly razorHeads?: RazorHeadScores;
  readonly razor?: Partial<Omit<RazorAttentionOptions, keyof PolicyOptions | 'headScores'>>;
  readonly minicache?: Partial<Omit<MiniCacheOptions, keyof PolicyOptions>>;
  readonly kvmerger?: Partial<Omit<KvMergerOptions, keyof PolicyOptions>>;
  readonly d2o?: Partial<Omit<D2oOptions, keyof PolicyOptions>>;
  readonly ems?: Partial<Omit<EmsOptions, keyof PolicyOptions>>;
  readonly kvcrush?: Partial<Omit<KvCrushOptions, keyof PolicyOptions>>;
}

export function isPolicyName(s: string): s is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(s);
}

/** A fresh policy object by name. */
export function createPolicy(name: PolicyName, o: PolicyOptions, x: PolicyExtras = {}): KvPolicy {
  switch (name) {
    case 'full':
      return fullPolicy();
    case 'streaming-llm':
      return streamingLlmPolicy(o);
    case 'h2o':
      return h2oPolicy(o);
    case 'snapkv':
      return snapKvPolicy(o);
    case 'pyramidkv':
      return pyramidKvPolicy(o);
    case 'tova':
      return tovaPolicy(o);
    case 'scissorhands':
      return scissorhandsPolicy(o);
    case 'keyformer':
      return keyformerPolicy({ ...o, ...x.keyformer });
    case 'quest':
      return questPolicy({ ...o, ...x.quest });
    case 'infllm':
      return infllmPolicy({ ...o, ...x.infllm });
    case 'duo-attention':
      if (!x.headScores) throw new TypeError("'duo-attention' needs headScores (run the calibration first)");
      return duoAttentionPolicy({ ...o, headScores: x.headScores });
    case 'kivi-2':
      return kiviPolicy({ ...o, bits: 2 });
    case 'kivi-4':
      return kiviPolicy({ ...o, bits: 4 });
    case 'mpcache':
      // the project's default (MPCache-R, mpcache.ts MPCACHE_DEFAULTS)
      return mpcachePolicy({ ...o, ...MPCACHE_DEFAULTS, name: 'mpcache', ...x.mpcache });
    case 'mpcache-v1':
      // the project's first default (secure registry 'mpcache-v1'); the ablations below vary it
      return mpcachePolicy({ ...o, ...x.mpcache, name: 'mpcache-v1' });
    // ablations of mpcache-v1 (one part switched or varied)
    case 'mpcache-static':
      return mpcachePolicy({ ...o, ...x.mpcache, dynamic: false });
    case 'mpcache-dynamic':
      return mpcachePolicy({ ...o, ...x.mpcache, static: false });
    case 'mpcache-noshare':
      return mpcachePolicy({ ...o, ...x.mpcache, share: false });
    case 'mpcache-unscaled':
      // the authors' static score: no 1/sqrt(d), no causal mask in the window
      return mpcachePolicy({ ...o, ...x.mpcache, scaled: false, causal: false, name: 'mpcache-unscaled' });
    case 'mpcache-max':
      // top-k on the max over window queries: the authors' threshold rule with a public count
      return mpcachePolicy({ ...o, ...x.mpcache, aggregate: 'max', name: 'mpcache-max' });
    case 'mpcache-paper':
      // the authors' rules exactly (mpcache-paper.ts)
      return mpcachePaperPolicy({ ...o, ...x.mpcachePaper });
    case 'minicache':
      return miniCachePolicy({ ...o, ...x.minicache });
    case 'kvmerger':
      return kvMergerPolicy({ ...o, ...x.kvmerger });
    case 'd2o':
      return d2oPolicy({ ...o, ...x.d2o });
    case 'ems':
      return emsPolicy({ ...o, ...x.ems });
    case 'kvcrush':
      return kvCrushPolicy({ ...o, ...x.kvcrush });
    case 'razor-attention':
      if (!x.razorHeads) throw new TypeError("'razor-attention' needs razorHeads (run eviction/eval/razor-calibrate.ts first)");
      return razorAttentionPolicy({ ...o, ...x.razor, headScores: x.razorHeads });
    case 'kv-head-merge':
      return kvHeadMergePolicy(o);
    case 'kvquant-2':
      return kvquantPolicy({ ...o, bits: 2 });
    case 'kvquant-4':
      return kvquantPolicy({ ...o, bits: 4 });
    case 'zipcache':
      return zipcachePolicy(o);
    case 'mikv':
      return mikvPolicy(o);
    case 'rotatekv-2':
      return rotatekvPolicy({ ...o, bits: 2 });
    case 'gear-2':
      return gearPolicy({ ...o, bits: 2 });
    case 'gear-4':
      return gearPolicy({ ...o, bits: 4 });
    case 'bfp-ksort':
      return bfpKsortPolicy(o);
    case 'shadowkv':
      return shadowkvPolicy(o);
    case 'a2ats':
      return a2atsPolicy(o);
    case 'actqkv':
      return actqkvPolicy(o);
    case 'cskv':
      return cskvPolicy(o);
    case 'matryoshkakv':
      return matryoshkaKvPolicy(o);
    case 'lococo':
      return lococoPolicy(o);
    default: {
      const never: never = name;
      throw new RangeError(`unknown policy ${String(never)}`);
    }
  }
}
