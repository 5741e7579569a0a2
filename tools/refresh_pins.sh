#!/usr/bin/env bash
# Refresh constraints.txt (the exact versions CI installs) to the newest versions pip finds today.
#   bash tools/refresh_pins.sh && bash .ci/run      # keep the new pins only if CI passes with them
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check '.[test]'
{
    echo "# The exact versions CI installs: pip install -c constraints.txt -e '.[test]' (.ci/run)."
    echo "# Made by tools/refresh_pins.sh on $(date +%Y-%m-%d); the tests prove these versions."
    "$work/venv/bin/pip" freeze --disable-pip-version-check | grep -v '^reportgen'
} > constraints.txt
echo "constraints.txt refreshed; now run: bash .ci/run"
