/**
 * mpcache — private LLM inference with three-party replicated secret sharing and
 * MPC-friendly KV-cache eviction (MPCache).
 *
 * The root holds the entry points most programs need. Each layer has its own subpath
 * (package.json `exports`), so the protocol internals stay out of the root:
 *   mpcache/protocols  sharing types, Context, every protocol and its cost function
 *   mpcache/parties    in-process, local multi-process and multi-host (WebSocket) runs
 *   mpcache/models     configs, loaders, tokenizers, the float reference, the secure decoder
 *   mpcache/eviction   plaintext KV policies and the secure policies (MPCache options)
 *   mpcache/testing    in-process three-party helpers for tests (public seeds)
 * The layers are documented in docs/ARCHITECTURE.md.
 */
export { loadKernels, kernelBackend, nativeLoadError } from './kernels/index.js';
export { Context, type SessionSeeds } from './protocols/context.js';
export { ArithShare, BoolShare, PublicTensor, type Shape } from './protocols/types.js';
export { MpcError, isMpcError, MPC_ERROR_CODES, type MpcErrorCode } from './protocols/errors.js';
export type { Channel, PartyId } from './protocols/channel.js';
export { input, reveal, revealFloat } from './protocols/sharing.js';
export { MemoryChannel } from './parties/memory-channel.js';
export { runInProcess, type InProcessOptions } from './parties/in-process.js';
export { runLocalParties, type LocalPartiesOptions, type LocalPartiesResult } from './parties/launcher.js';
export { runParty, type RunPartyOptions, type PartyRun } from './parties/run-party.js';
export { readSessionFile, parseSessionConfig, type SessionConfig, type SessionOptions } from './parties/session-config.js';
export { readKeyFile, generateIdentity, type Identity } from './parties/identity.js';
export { NAMED_NET_SETTINGS, describeNetSetting, parseNetSetting, type LinkShape, type NetSetting } from './parties/netem/settings.js';
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
export { secureMpCachePolicy, type SecureMpCachePolicy } from './eviction/secure/mpcache.js';
export type { SecureMpCacheOptions } from './eviction/secure/mpcache-params.js';
export type { SecureKvPolicy } from './models/secure-hooks.js';
