#!/usr/bin/env bash
# For machines without apt or root: unpack Debian's liblouis20, liblouis-data and python3-louis
# .deb files from DEBDIR into a private prefix and print the exports that make `import louis`
# find them.   Usage: eval "$(scripts/liblouis-env.sh DEBDIR [PREFIX])"
set -euo pipefail
debs=${1:?usage: liblouis-env.sh DEBDIR [PREFIX]}
prefix=${2:-${TMPDIR:-/tmp}/liblouis-prefix}
mkdir -p "$prefix"
for f in "$debs"/*.deb; do dpkg -x "$f" "$prefix"; done
lib=$(dirname "$(find "$prefix" -name 'liblouis.so.20*' | head -n 1)")
echo "export LD_LIBRARY_PATH=$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
echo "export LOUIS_TABLEPATH=$prefix/usr/share/liblouis/tables"
echo "export PYTHONPATH=$prefix/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}"
