#!/usr/bin/env bash
# Regenerate and compile the Simplified Chinese catalogue.
#
#   scripts/i18n.sh           extract every msgid into locale/zh_Hans/LC_MESSAGES/django.po
#                             (makemessages), compile it to django.mo (compilemessages) and
#                             report what is still untranslated or fuzzy
#   scripts/i18n.sh --check   the same, then fail (exit 1) if any msgid is untranslated or fuzzy
#
# After running it, translate the new or fuzzy entries in django.po with the official terms of
# the command centres (受理, 分拨, 反馈, 核查办结, 超期, 挂账, 网格员, 牵头单位 …, as the
# catalogue already uses them), remove the "#, fuzzy" flags you checked, and run it again. Commit both django.po and django.mo:
# the .mo is committed so that `make run` needs no gettext tools.
#
# The UI is Chinese by default (LANGUAGE_CODE "zh-hans"); English is the msgid itself.
# JavaScript has no catalogue of its own (no djangojs domain): the pages hand their scripts
# translated text through json_script blocks or data-* attributes, so django.po holds it all.
#
# Needs GNU gettext (xgettext, msgmerge, msgfmt): apt-get install gettext.
set -euo pipefail

cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = "--check" ]; then
    check=1
fi

if [ -x .venv/bin/python ]; then
    python=.venv/bin/python
else
    python=${PYTHON:-python3}
fi
for tool in xgettext msgmerge msgfmt; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$0: $tool not found; install GNU gettext (apt-get install gettext)." >&2
        exit 1
    fi
done

po=locale/zh_Hans/LC_MESSAGES/django.po
mkdir -p "$(dirname "$po")"

# Folders that hold no source of ours: the virtualenv, collected static files, runtime state,
# benchmarks, tests and screenshots.
"$python" manage.py makemessages -l zh_Hans --no-obsolete --no-wrap \
    --ignore=.venv --ignore=staticfiles --ignore=var --ignore=bench --ignore=tests \
    --ignore=test-artifacts --ignore=node_modules
"$python" manage.py compilemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --ignore=var

# msgfmt prints e.g. "540 translated messages, 3 fuzzy translations, 3 untranslated messages."
stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$po" 2>&1)
echo "$po: $stats"
if [[ "$stats" == *untranslated* || "$stats" == *fuzzy* ]]; then
    echo "Untranslated or fuzzy entries:" >&2
    msgattrib --only-fuzzy --no-wrap "$po" | grep -E '^msgid ' | grep -v '^msgid ""$' | sed 's/^/  fuzzy: /' >&2 || true
    msgattrib --untranslated --no-wrap "$po" | grep -E '^msgid ' | grep -v '^msgid ""$' | sed 's/^/  untranslated: /' >&2 || true
    if [ "$check" = 1 ]; then
        exit 1
    fi
fi
