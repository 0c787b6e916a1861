/**
 * The design notes in docs/ are the single source the code cites, so the citations must
 * resolve: every mention of a design note names docs/, the note exists, and a cited section
 * ("Name", section N, §N) is a heading of that note. The cost functions and thresholds that
 * docs/PROTOCOLS.md and docs/ARCHITECTURE.md name in backticks are real exports of
 * `mpcache/protocols`, so the docs point at code instead of copying its numbers.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as protocols from '../protocols/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', 'dist', 'build', '.git', 'docs']);
const NOTES = ['ARCHITECTURE', 'PROTOCOLS', 'MPCACHE', 'BASELINES', 'PROTOCOL_API'];

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|js|md)$/.test(name)) out.push(p);
  }
  return out;
}

function headings(note: string): string[] {
  return readFileSync(join(root, 'docs', `${note}.md`), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('## '))
    .map((l) => l.slice(3).trim());
}

describe('docs/ citations', () => {
  const files = sources(root);
  const self = fileURLToPath(import.meta.url);
  const cites: { file: string; note: string; prefixed: boolean; rest: string }[] = [];
  for (const f of files) {
    if (f === self) continue;
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(new RegExp(`(docs/)?\\b(${NOTES.join('|')})\\.md(?=([^\\n]{0,80}))`, 'g'))) {
      cites.push({ file: relative(root, f).split(sep).join('/'), note: m[2], prefixed: m[1] !== undefined, rest: m[3] });
    }
  }

  it('finds the citations (the scan works)', () => {
    expect(cites.length).toBeGreaterThan(10);
  });

  it('every design-note citation names docs/ and an existing note', () => {
    expect(cites.filter((c) => !c.prefixed).map((c) => `${c.file}: ${c.note}.md`)).toEqual([]);
    for (const c of cites) expect(existsSync(join(root, 'docs', `${c.note}.md`)), `${c.file} cites docs/${c.note}.md`).toBe(true);
  });

  it('cited sections are headings of the note', () => {
    const bad: string[] = [];
    for (const c of cites) {
      const hs = headings(c.note);
      const quoted = /^,?\s*"([^"]+)"/.exec(c.rest);
      const numbered = /^,?\s*(?:§|section )(\d+)/.exec(c.rest);
      if (quoted && !hs.includes(quoted[1])) bad.push(`${c.file}: docs/${c.note}.md "${quoted[1]}"`);
      if (numbered && !hs.some((h) => h.startsWith(`${numbered[1]}.`))) bad.push(`${c.file}: docs/${c.note}.md section ${numbered[1]}`);
    }
    expect(bad).toEqual([]);
  });

  it('the cost functions and thresholds the notes name are exports of mpcache/protocols', () => {
    const named = new Set<string>();
    for (const note of ['PROTOCOLS', 'ARCHITECTURE']) {
      const text = readFileSync(join(root, 'docs', `${note}.md`), 'utf8');
      for (const m of text.matchAll(/`([A-Za-z_]\w*)(?:\([^`]*\))?`/g)) {
        if (/(Cost|Plan)$|^(levelRounds|rotationChunks)$|^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(m[1]) && !m[1].startsWith('MPC_ERR') && !m[1].startsWith('MPCACHE_')) named.add(m[1]);
      }
    }
    expect(named.size).toBeGreaterThan(5);
    const missing = [...named].filter((n) => !(n in protocols));
    expect(missing).toEqual([]);
  });
});
