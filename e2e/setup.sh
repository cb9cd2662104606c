#!/usr/bin/env bash
# What the console's browser tests need: Debian's Chromium, a CJK font so that Chinese renders,
# and playwright-core from the committed lockfile. Does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fonts=$(fc-list 2>/dev/null || true)
grep -qi "wenquanyi\|noto sans cjk" <<<"$fonts" || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -d node_modules/playwright-core ]; then
    npm ci --no-audit --no-fund >/dev/null
fi
