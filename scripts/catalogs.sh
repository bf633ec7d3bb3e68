#!/bin/sh
# Bring guidecast's message catalogs up to date after a phrase changes in
# src/guidecast/lang/messages.py: extract the English message ids into the template, merge them into
# each language's .po (new ones untranslated, changed ones fuzzy), and compile the .mo files the
# package ships. Translate what the statistics report as untranslated or fuzzy, then run it again.
#   scripts/catalogs.sh            update and compile every catalog
#   scripts/catalogs.sh init it    start a catalog for a new language (here Italian)
set -eu
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
LOCALE=src/guidecast/locale
POT=$LOCALE/guidecast.pot

"$PYBABEL" extract -F babel.cfg -k N_ --no-default-keywords --add-comments=TRANSLATORS: \
    --no-location --no-wrap --sort-by-file --project guidecast --copyright-holder "guidecast authors" \
    -o "$POT" .
if [ "${1:-}" = init ]; then
    "$PYBABEL" init -i "$POT" -d "$LOCALE" -D guidecast -l "$2"
fi
"$PYBABEL" update -i "$POT" -d "$LOCALE" -D guidecast --no-wrap --ignore-obsolete
"$PYBABEL" compile -d "$LOCALE" -D guidecast --statistics
