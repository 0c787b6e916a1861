/**
 * The KeyRotary (attention-hooks.ts) of a RopeTable: the rotation the float reference applies
 * to one head vector at a position, and its inverse (the transpose of each 2x2 rotation).
 */
import type { KeyRotary } from './attention-hooks.js';
import type { RopeTable } from './rope.js';

export function keyRotaryOf(rope: RopeTable): KeyRotary {
  return {
    rotate(x: Float32Array, offset: number, pos: number): void {
      rope.apply(x, offset, 1, pos);
    },
    unrotate(x: Float32Array, offset: number, pos: number): void {
      const { cos, sin } = rope.angles(pos);
      for (let i = 0; i < rope.headDim / 2; i++) {
        const j = offset + 2 * i;
        const a = x[j];
        const b = x[j + 1];
        x[j] = a * cos[i] + b * sin[i];
        x[j + 1] = -a * sin[i] + b * cos[i];
      }
    },
  };
}

/** The KeyRotary of a model without rotary embeddings (learned positions): keys are cached as projected. */
export const NO_ROTATION: KeyRotary = Object.freeze({
  rotate(): void {},
  unrotate(): void {},
});
