/**
 * `mpcache/parties`: the runtime around the protocols. Three ways to run a session:
 * - all three parties in this process over in-memory channels (`runInProcess`);
 * - three child processes on this host over real WebSockets (`runLocalParties`);
 * - one party of a multi-host session from code (`runParty` with a SessionConfig read by
 *   `readSessionFile`/`parseSessionConfig` and this party's key from `readKeyFile`), or the
 *   bare channel (`WsChannel.connect`) for a caller that builds its own Context.
 * Jobs (`Job`) are what a party runs once connected; their PUBLIC arguments are checked with
 * both peers before the job starts, their PRIVATE inputs never leave the party.
 */
export { MemoryChannel } from './memory-channel.js';
export { freshSeeds, memoryContexts, runInProcess, runOnContexts, type InProcessOptions } from './in-process.js';
export {
  PartiesFailedError,
  runLocalParties,
  type LocalPartiesOptions,
  type LocalPartiesResult,
  type PartyOutcome,
} from './launcher.js';
export { errorReport, runParty, type ErrorReport, type PartyRun, type PartyStats, type RunPartyOptions } from './run-party.js';
export { WsChannel, type ConnectedParty, type WireStats, type WsConnectOptions } from './ws-channel.js';
export {
  DEFAULT_SESSION_OPTIONS,
  checkPlaintextAllowed,
  parseSessionConfig,
  parseSessionOptions,
  readSessionFile,
  sessionToJson,
  type PartyEndpoint,
  type SessionConfig,
  type SessionOptions,
} from './session-config.js';
export { generateIdentity, identityFromJson, identityToJson, readKeyFile, writeKeyFile, type Identity } from './identity.js';
export { freePorts, makeLocalSession, writeLocalSession, type LocalSession, type LocalSessionFiles } from './local-session.js';
export { MAX_PRIVATE_INPUT_CHARS, loadJobModule, parsePrivateInputs, type Job, type JobIO, type PrivateInputs } from './job.js';
export { NAMED_NET_SETTINGS, describeNetSetting, parseNetSetting, type LinkShape, type NetSetting } from './netem/settings.js';
