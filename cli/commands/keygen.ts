/** `mpcache keygen --out FILE [--force]`: write a fresh Ed25519 key file, print the public key. */
import { existsSync } from 'node:fs';
import { generateIdentity, toHex, writeKeyFile } from '../../parties/identity.js';
import { type Command, configError, parseFlags, requireFlag } from '../command.js';

export const keygenCommand: Command = {
  summary: 'write a fresh Ed25519 key file for one party and print its public key',
  usage: `mpcache keygen --out FILE [--force]
  --out FILE   where to write the key file (JSON, mode 0600)
  --force      overwrite an existing file
Put the printed public key into the session file's entry for this party.`,
  async run(argv) {
    const f = parseFlags(argv, { out: { type: 'string' }, force: { type: 'boolean' } }, 'keygen');
    const out = requireFlag(f.out, '--out', 'keygen');
    if (existsSync(out) && !f.force) throw configError(`keygen: --out ${out} already exists (use --force to overwrite)`);
    const id = generateIdentity();
    try {
      writeKeyFile(out, id);
    } catch (e) {
      throw configError(`keygen: cannot write --out ${out}: ${(e as Error).message}`);
    }
    process.stdout.write(`${toHex(id.publicKey)}\n`);
    return 0;
  },
};
