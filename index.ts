/**
 * mpcache — private LLM inference with three-party replicated secret sharing and
 * MPC-friendly KV-cache eviction (MPCache).
 *
 * The layers are exported as namespaces (kernels, protocols, parties, models, eviction) so
 * names never collide; the handful of entry points most programs need are also exported
 * at the top level.
 */
export * as kernels from './kernels/index.js';
export * as protocols from './protocols/index.js';
export * as models from './models/index.js';
export * as eviction from './eviction/index.js';
export * as secureEviction from './eviction/secure/registry.js';

export { loadKernels, kernelBackend, nativeLoadError } from './kernels/index.js';
export { Context, type SessionSeeds } from './protocols/context.js';
export { ArithShare, BoolShare, PublicTensor } from './protocols/types.js';
export { MpcError, isMpcError, type MpcErrorCode } from './protocols/errors.js';
export type { Channel, PartyId } from './protocols/channel.js';
export { MemoryChannel } from './parties/memory-channel.js';
export { runInProcess, type InProcessOptions } from './parties/in-process.js';
export { runLocalParties, type LocalPartiesOptions } from './parties/launcher.js';
export type { Job, JobIO, PrivateInputs } from './parties/job.js';
export {
  ReferenceModel,
  SecureDecoder,
  shareModel,
  loadWeights,
  loadTokenizer,
  defaultModelPath,
  loadModelOrRandom,
  loadTokenizerOrBytes,
  randomWeights,
} from './models/index.js';
export { createSecurePolicy, securePolicyNames, SECURE_POLICIES } from './eviction/secure/registry.js';
