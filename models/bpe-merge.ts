/**
 * The greedy pair-merge loop both BPE tokenizers share: a sequence of n symbols, repeatedly
 * merge the adjacent pair with the best priority (lowest number; ties to the leftmost pair)
 * until no pair merges. A linked list over the symbols plus a binary heap of candidate pairs
 * with version stamps (stale entries are skipped) makes it O(n log n).
 */

/** Merge plan for one adjacent pair: its priority (lower merges first) and a value passed back to `merge`. */
export interface PairMerge {
  readonly priority: number;
  readonly value: number;
}

/**
 * @param n number of symbols
 * @param pair the merge of symbols a and b (a directly before b), or undefined when they do not merge
 * @param merge fold symbol b into symbol a (b is then gone)
 * @returns the indices of the surviving symbols, in order
 */
export function mergePairs(n: number, pair: (a: number, b: number) => PairMerge | undefined, merge: (a: number, b: number, value: number) => void): number[] {
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const ver = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  // heap entries: [priority, left, right, verLeft, verRight, value]; min-heap, ties to the left
  const heap: number[][] = [];
  const better = (x: number[], y: number[]): boolean => x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]);
  const push = (e: number[]): void => {
    heap.push(e);
    for (let i = heap.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!better(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const pop = (): number[] => {
    const top = heap[0];
    const last = heap.pop() as number[];
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && better(heap[l], heap[m])) m = l;
        if (r < heap.length && better(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  };
  const consider = (a: number): void => {
    const b = a >= 0 ? next[a] : -1;
    if (a < 0 || b < 0) return;
    const m = pair(a, b);
    if (m !== undefined) push([m.priority, a, b, ver[a], ver[b], m.value]);
  };
  for (let i = 0; i + 1 < n; i++) consider(i);
  while (heap.length > 0) {
    const [, a, b, va, vb, value] = pop();
    if (!alive[a] || !alive[b] || ver[a] !== va || ver[b] !== vb || next[a] !== b) continue;
    merge(a, b, value);
    ver[a]++;
    alive[b] = 0;
    next[a] = next[b];
    if (next[b] >= 0) prev[next[b]] = a;
    consider(prev[a]);
    consider(a);
  }
  const out: number[] = [];
  for (let i = n > 0 ? 0 : -1; i >= 0; i = next[i]) out.push(i);
  return out;
}
