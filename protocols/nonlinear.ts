/**
 * The non-linear blocks under the name PROTOCOL_API.md gives them ("protocols/nonlinear.ts
 * (+ files per function)"): each lives in its own file; this module only re-exports them.
 */
export { exp, type ExpOptions } from './exp.js';
export { reciprocal, type ReciprocalOptions } from './reciprocal.js';
export { rsqrt } from './rsqrt.js';
export { softmax, type SoftmaxOptions } from './softmax.js';
export { gelu, silu, type GeluOptions, type SiluOptions } from './activations.js';
