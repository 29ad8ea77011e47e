"""A normal (non-editable) install renders the default abstract: the wheel carries the template.

Builds the wheel of this checkout and runs ``reportgen abstract`` from a fresh virtual
environment that sees the wheel, not the source tree (dependencies come from the test
interpreter's site-packages, so nothing is downloaded).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_an_installed_wheel_renders_the_default_abstract(tmp_path):
    wheels = tmp_path / "wheels"
    # setuptools builds in ROOT/build and would pack whatever an earlier build left there.
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True, capture_output=True, cwd=tmp_path)
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    [wheel] = wheels.glob("reportgen-*.whl")
    assert "reportgen/templates/abstract.md.j2" in zipfile.ZipFile(wheel).namelist()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    zipfile.ZipFile(wheel).extractall(site)  # what pip does for a pure-Python wheel, minus the network
    # Dependencies from the test interpreter's site-packages, appended after the wheel. A
    # directory named in a .pth file is not itself scanned for .pth files, so the editable
    # install living there stays inactive.
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (Path(site) / "deps.pth").write_text("\n".join(deps) + "\n")
    # The editable install of the test interpreter must not shadow the wheel.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    code = ("import sys, reportgen.abstract.render as a; "
            "assert a.__file__.startswith(sys.argv[1]), a.__file__; "
            "from reportgen.cli.entry import main; sys.argv = ['reportgen', *sys.argv[2:]]; main()")
    out = tmp_path / "abstract.md"
    done = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", code, site, "abstract",
                           str(ROOT / "examples" / "abstract.yaml"), "-o", str(out)],
                          check=False, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "Draft with hypothetical numbers" in out.read_text(encoding="utf-8")
