/**
 * `mpcache serve --id 0|2 --key FILE --control HOST:PORT [--host HOST] [--model PATH] ...`:
 * run P0 or P2 as a long-lived server of user sessions (cli/serve/server.ts); users connect
 * with `mpcache ask`. Stops on SIGINT / SIGTERM.
 */
import { readKeyFile } from '../../parties/identity.js';
import { parseSeconds } from '../../parties/flags.js';
import { DEFAULT_SESSION_OPTIONS } from '../../parties/session-config.js';
import { parseIntFlag } from '../../parties/flags.js';
import { type Command, configError, parseFlags, requireFlag } from '../command.js';
import { startServer } from '../serve/server.js';

export const serveCommand: Command = {
  summary: 'run party 0 (model owner) or party 2 (helper) as a server of many user sessions (users: mpcache ask)',
  usage: `mpcache serve --id 0|2 --key FILE --control HOST:PORT [--host HOST] [--model PATH|random] [--setup-timeout S] [--recv-timeout S]
                     [--max-sessions N] [--quiet]
  --id 0|2            which party this server is
  --key FILE          its key file (mpcache keygen); users may pin the public key (mpcache ask --p0-key/--p2-key)
  --control HOST:PORT the control endpoint users ask for sessions (HTTP, public data only)
  --host HOST         this party's address in the sessions (default: the control host); party 2 listens there
  --model PATH|random party 0: the weights, loaded once and shared with party 2 once per server start
  --setup-timeout S   each session's setup window (default 10)
  --recv-timeout S    each session's receive timeout (default 30)
  --max-sessions N    most sessions at once (default 8)
  --quiet             no per-session progress lines
Both servers must run with the same --setup-timeout and --recv-timeout (a user checks).`,
  async run(argv) {
    const f = parseFlags(
      argv,
      {
        id: { type: 'string' },
        key: { type: 'string' },
        control: { type: 'string' },
        host: { type: 'string' },
        model: { type: 'string' },
        'setup-timeout': { type: 'string' },
        'recv-timeout': { type: 'string' },
        'max-sessions': { type: 'string' },
        quiet: { type: 'boolean' },
      },
      'serve',
    );
    const id = requireFlag(f.id, '--id', 'serve');
    if (id !== '0' && id !== '2') throw configError(`serve: --id must be 0 (model owner) or 2 (helper); the user (1) runs mpcache ask, got '${id}'`);
    const self = Number(id) as 0 | 2;
    const identity = readKeyFile(requireFlag(f.key, '--key', 'serve'));
    const m = /^(.+):(\d{1,5})$/.exec(requireFlag(f.control, '--control', 'serve'));
    if (!m) throw configError('serve: --control must be HOST:PORT');
    if (self === 2 && f.model !== undefined) throw configError('serve: --model is party 0\'s (the model owner); party 2 holds no weights of its own');
    const options = {
      ...DEFAULT_SESSION_OPTIONS,
      ...(f['setup-timeout'] !== undefined ? { handshakeTimeoutMs: Math.round(parseSeconds(f['setup-timeout'], '--setup-timeout', 'serve') * 1000) } : {}),
      ...(f['recv-timeout'] !== undefined ? { recvTimeoutMs: Math.round(parseSeconds(f['recv-timeout'], '--recv-timeout', 'serve') * 1000) } : {}),
    };
    const log = (line: string) => void process.stdout.write(`${line}\n`);
    const s = await startServer({
      self,
      identity,
      controlHost: m[1],
      controlPort: Number(m[2]),
      host: f.host ?? m[1],
      ...(f.model !== undefined ? { model: f.model } : {}),
      options,
      maxSessions: parseIntFlag(f['max-sessions'], '--max-sessions', 'serve', 1, 1000),
      log,
      progress: f.quiet !== true,
    });
    log(`serving as party ${self} (${self === 0 ? 'model owner' : 'helper'}): control http://${m[1]}:${s.port}, sessions on ${f.host ?? m[1]}`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await s.close();
    log(`party ${self}: stopped`);
    return 0;
  },
};
