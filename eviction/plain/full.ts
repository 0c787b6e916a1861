/** Full: keeps every token; the accuracy reference. */
import type { KvPolicy } from '../policy.js';

export function fullPolicy(): KvPolicy {
  return { name: 'full', kind: 'reference', gqa: 'none', params: {} };
}
