/** KV-cache policies: the policy interface and the plaintext policies (MPCache oracle included). */
export * from './policy.js';
export * from './plain/registry.js';
export * from './plain/mpcache-oracle.js';
export { fullPolicy } from './plain/full.js';
export { streamingLlmPolicy, sinkPlusRecent } from './plain/streaming-llm.js';
export { h2oPolicy } from './plain/h2o.js';
export { snapKvPolicy, pool1d } from './plain/snapkv.js';
export { pyramidKvPolicy, pyramidCapacity } from './plain/pyramidkv.js';
export { tovaPolicy } from './plain/tova.js';
export { scissorhandsPolicy } from './plain/scissorhands.js';
export { keyformerPolicy } from './plain/keyformer.js';
export { questPolicy, questPages } from './plain/quest.js';
export { infllmPolicy, infllmSplit } from './plain/infllm.js';
export { duoAttentionPolicy, duoSplit } from './plain/duo-attention.js';
export { kiviPolicy, kiviMemoryRatio, fakeQuantGroup } from './plain/kivi.js';
export { mpcachePolicy, type MpCacheOptions } from './plain/mpcache.js';
export { topKAscending, topKWithForced } from './plain/select.js';
// merging and head-similarity policies (issue 17)
export { miniCachePolicy, miniCachePairs, slerpMerge, type MiniCacheOptions } from './plain/minicache.js';
export { kvMergerPolicy, mergingSets, type KvMergerOptions } from './plain/kvmerger.js';
export { d2oPolicy, d2oLayerRatios, d2oLayerStat, type D2oOptions } from './plain/d2o.js';
export { emsPolicy, globalLocalScore, type EmsOptions } from './plain/ems.js';
export { kvCrushPolicy, crushGroups, type KvCrushOptions } from './plain/kvcrush.js';
export { razorAttentionPolicy, razorRetrievalHeads, type RazorAttentionOptions, type RazorHeadScores } from './plain/razor-attention.js';
export { kvHeadMergePolicy, groupHeads } from './plain/kv-head-merge.js';
// secure policies (on shares) for the secure decoder: the registry and MPCache's options
export { type SecureKvPolicy } from '../models/secure-hooks.js';
export { SECURE_POLICIES, createPlainTwin, createSecurePolicy, securePolicyNames, type SecurePolicyEntry } from './secure/registry.js';
export { secureMpCachePolicy, type MpCacheModelShape, type SecureMpCachePolicy } from './secure/mpcache.js';
export { resolveMpCacheParams, type SecureMpCacheOptions, type SecureMpCacheParams } from './secure/mpcache-params.js';
export { secureFullPolicy } from './secure/full.js';
