/**
 * `mpcache/testing`: helpers for tests of protocols and policies built on mpcache (the only
 * test code the package ships). Three parties in one process over in-memory channels with
 * fixed, reproducible seeds, and the per-call cost counters the protocol tests assert on.
 * Not for production: the seeds are public.
 */
export { costOf, makeTrio, measured, runTrio, trioSeeds, type TrioOptions } from './trio.js';
export { logUniform, onGrid, randFloats, share } from './protocol-helpers.js';
