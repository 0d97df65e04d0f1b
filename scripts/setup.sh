#!/usr/bin/env bash
# Set up braillejobs on a fresh Debian machine: liblouis from Debian, a virtualenv in .venv with
# the CPU build of torch 2.13.0 and the project, and `import louis` made to work inside it.
# Idempotent: a second run checks and returns quickly.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BRAILLEJOBS_VENV:-.venv}
PY=${PYTHON:-python3}

need_apt=()
for pkg in liblouis20 liblouis-data python3-louis; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
# docker-compose (`config -q` needs no engine), prometheus (promtool) and prometheus-alertmanager
# (amtool) check the deployment files in the tests; --no-install-recommends keeps the Docker engine out.
# chromium (headless) and a font show the exporter's status page to tests/fleet/test_status_page.py.
for pkg in docker-compose prometheus prometheus-alertmanager chromium fonts-dejavu-core; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} from Debian"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${need_apt[@]}" >/dev/null
fi

[ -x "$VENV/bin/python" ] || { echo "setup: creating $VENV"; "$PY" -m venv "$VENV"; }
VPY="$VENV/bin/python"

# torch first, pinned to the CPU build, so that nothing later pulls a CUDA build.
"$VPY" -c "import torch" 2>/dev/null || { echo "setup: installing torch 2.13.0"; "$VPY" -m pip install -q torch==2.13.0; }

# liblouis's Python module is pure ctypes over liblouis.so.20: link Debian's copy into the venv.
SITE=$("$VPY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
if ! "$VPY" -c "import louis; louis.version()" 2>/dev/null; then
    ln -sfn /usr/lib/python3/dist-packages/louis "$SITE/louis"
fi

stamp="$VENV/.braillejobs-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: installing braillejobs and its test tools"
    "$VPY" -m pip install -q -e ".[test]"
    touch "$stamp"
fi
"$VPY" -c "import louis, braillejobs; print('setup: ready (liblouis', louis.version() + ')')"
