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
