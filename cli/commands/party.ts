/**
 * `mpcache party --session FILE --id N --key FILE [--job NAME | --job-module PATH#EXPORT]
 *  [--job-args JSON] [--prompt-file FILE|-] [--model PATH] [--tokenizer PATH]
 *  [--private-inputs FILE|-] [--insecure-plaintext]`: run one party of a session — the party
 * entry point of parties/party-main.ts (public vs private arguments, exit codes) with the
 * CLI's job table (cli/jobs.ts: selftest, generate).
 */
import { runPartyProcess } from '../../parties/party-main.js';
import type { Command } from '../command.js';
import { JOBS, findJob } from '../jobs.js';

export const partyCommand: Command = {
  summary: 'run one party of a session (the parties may run on different hosts)',
  usage: `mpcache party --session FILE --id N --key FILE [--job NAME | --job-module PATH#EXPORT] [--job-args JSON]
                     [--prompt-file FILE|-] [--model PATH|random] [--tokenizer PATH|random] [--private-inputs FILE|-] [--listen-host HOST]
                     [--setup-timeout S] [--json] [--quiet] [--insecure-plaintext]
  --session FILE          session file (JSON: session id, parties' host:port and public keys, options)
  --id N                  this party's index: 0 (model owner), 1 (user), 2 (helper)
  --key FILE              this party's key file (from mpcache keygen; mode 0600)
  --job NAME              built-in job from cli/jobs.ts (default selftest; e.g. selftest, generate)
  --job-module P#E        load the job from module P, export E (default export when #E is omitted)
  --job-args JSON         PUBLIC job arguments: the same on every party, compared before the job starts
                          (generate: {"tokens":N,"policy":NAME,"revealLogits":BOOL,"budget":{"ratio":R}|{"tokens":N},"policyOptions":{...}})
  --prompt-file FILE|-    party 1 only: the prompt, from FILE or (-) standard input; one trailing newline is dropped
  --model PATH|random     party 0 only (generate): the weights (default models/default/, else stories260K, else random)
  --tokenizer PATH|random party 1 only (generate): the tokenizer (a model dir or tokenizer file; default as --model)
  --private-inputs FILE|- this party's private inputs as a JSON object of named strings, from FILE or standard input
  --listen-host HOST      listen on HOST instead of this party's session host (same port; behind a forwarder)
  --setup-timeout S       this party's setup window in seconds (default: the session's handshakeTimeoutMs, 10 s);
                          while waiting the party says whom it waits for
  --json                  one JSON object per line on stdout (events, then {"event":"result",...}); default: plain text
                          (P1: the generated text as it comes; progress lines on stderr)
  --quiet                 no progress lines
  --insecure-plaintext    do NOT encrypt frames (loopback benchmarks only: every host must be loopback; every party must agree)
Private text generation on three hosts (the prompt goes to party 1 only, never on a command line):
  P0: mpcache party --session s.json --id 0 --key p0.key --job generate --job-args '{"tokens":20}' --model models/default
  P1: mpcache party --session s.json --id 1 --key p1.key --job generate --job-args '{"tokens":20}' --prompt-file prompt.txt
  P2: mpcache party --session s.json --id 2 --key p2.key --job generate --job-args '{"tokens":20}'
Topology: the lower id dials the higher (0->1, 0->2, 1->2); parties 1 and 2 listen on their port.
All three must start within the setup window (session option handshakeTimeoutMs, default 10 s, or --setup-timeout).
mpcache session init writes the session file from the hosts and public keys.`,
  run: (argv) => runPartyProcess(argv, { find: findJob, names: Object.keys(JOBS) }),
};
