/**
 * A binary min-heap ordered by a `better(a, b)` predicate (a comes out before b). Used by the
 * BPE tokenizers' merge loops (priority = merge rank or score, ties to the leftmost pair).
 */
export class BinaryHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly better: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(e: T): void {
    const h = this.items;
    h.push(e);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.better(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  /** Removes and returns the best element; the heap must not be empty. */
  pop(): T {
    const h = this.items;
    if (h.length === 0) throw new RangeError('BinaryHeap.pop: the heap is empty');
    const top = h[0];
    const last = h.pop() as T;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.better(h[l], h[m])) m = l;
        if (r < h.length && this.better(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
