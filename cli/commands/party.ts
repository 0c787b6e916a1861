/**
 * `mpcache party --session FILE --id N --key FILE [--job NAME | --job-module PATH#EXPORT]
 *  [--job-args JSON] [--insecure-plaintext]`: run one party of a session — the party entry
 * point of parties/party-main.ts with the CLI's job table (cli/jobs.ts: selftest, generate).
 *
 * Exit codes: 0 job done (result printed as `result: <json>`), 1 the session failed (one
 * line `party N failed: MPC_ERR_...` on stderr), 2 configuration error. When started with an
 * IPC channel the result or error also goes to the parent, and the party exits as soon as
 * the parent goes away.
 */
import { runPartyProcess } from '../../parties/party-main.js';
import type { Command } from '../command.js';
import { JOBS, findJob } from '../jobs.js';

export const partyCommand: Command = {
  summary: 'run one party of a session (the parties may run on different hosts)',
  usage: `mpcache party --session FILE --id N --key FILE [--job NAME | --job-module PATH#EXPORT] [--job-args JSON] [--insecure-plaintext]
  --session FILE        session file (JSON: session id, parties' host:port and public keys, options)
  --id N                this party's index: 0, 1 or 2
  --key FILE            this party's key file (from mpcache keygen)
  --job NAME            built-in job from cli/jobs.ts (default selftest; e.g. selftest, generate)
  --job-module P#E      load the job from module P, export E (default export when #E is omitted)
  --job-args JSON       job arguments (the same on every party)
  --insecure-plaintext  do NOT encrypt frames (loopback benchmarks only; every party must agree)
Topology: the lower id dials the higher (0->1, 0->2, 1->2); parties 1 and 2 listen on their port.`,
  run: (argv) => runPartyProcess(argv, { find: findJob, names: Object.keys(JOBS) }),
};
