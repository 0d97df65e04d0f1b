"""The admin host is light: importing braillejobs and running admin commands loads no torch."""

import subprocess
import sys

from tests.support import REPO, env_for


def test_admin_commands_do_not_import_torch(tmp_path, redis_url, env):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Hello there.\n")
    code = f"""
import sys
import braillejobs, braillejobs.cli, braillejobs.jobs, braillejobs.queue, braillejobs.pipeline
from click.testing import CliRunner
from braillejobs.cli import main
r = CliRunner()
out = r.invoke(main, ["submit", {str(tmp_path / "docs")!r}, "--format", "unicode"])
assert out.exit_code == 0, out.output
job = out.stdout.strip().splitlines()[-1]
for args in (["config"], ["jobs"], ["status"], ["status", job, "--json"], ["cancel", job],
             ["fetch", job, "-o", {str(tmp_path / "out")!r}]):
    res = r.invoke(main, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), (args, res.output)
heavy = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
print("TORCH" if heavy else "LIGHT", len(heavy))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env_for(**env), cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("LIGHT 0"), proc.stdout + proc.stderr
