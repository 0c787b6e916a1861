/**
 * Test-only job module (`--job-module testing/recording-job.ts#recordingGenerate`): the
 * real `generate` job, with every payload this party RECEIVES (after opening, i.e. what it
 * sees in clear) appended to `$MPCACHE_TEST_RECORD_DIR/p<id>.bin`, so a test can check that
 * P0 and P2 never see the prompt. Not a built-in job.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Channel } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import type { JobIO } from '../parties/job.js';
import { generateJob } from '../cli/jobs/generate.js';

export async function recordingGenerate(ctx: Context, args: unknown, io: JobIO): Promise<unknown> {
  const dir = process.env.MPCACHE_TEST_RECORD_DIR;
  if (!dir) throw new Error('recordingGenerate: set MPCACHE_TEST_RECORD_DIR');
  const seen: Buffer[] = [];
  const ch = ctx.ch as { exchange: Channel['exchange'] };
  const exchange = ch.exchange.bind(ctx.ch);
  ch.exchange = async (req) => {
    const got = await exchange(req);
    for (const p of got.values()) seen.push(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    return got;
  };
  try {
    return await generateJob(ctx, args, io);
  } finally {
    writeFileSync(join(dir, `p${ctx.party}.bin`), Buffer.concat(seen));
  }
}
