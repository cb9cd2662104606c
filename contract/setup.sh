#!/usr/bin/env bash
# A Python environment with the REST contract's checkers (contract/requirements.txt), in
# contract/.venv. Does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/schemathesis ] || ! cmp -s requirements.txt .venv/requirements.txt; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
    cp requirements.txt .venv/requirements.txt
fi
