"""`reportgen run steering`: user errors exit with code 2 and one clear message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from reportgen.cli.entry import main; main()", "run", "steering", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


def test_bad_config_and_unknown_model_exit_2(tmp_path):
    cfg = tmp_path / "steer.yaml"
    cfg.write_text("intervention:\n  ablation_mode: sideways\nsweep:\n  widht: [1]\n")
    res = _run("--config", str(cfg), "--out", str(tmp_path / "run"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert str(cfg) in res.stderr and "intervention.ablation_mode" in res.stderr and "sweep.widht" in res.stderr

    res = _run("--model", "./no/such/model", "--out", str(tmp_path / "run2"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "unknown model './no/such/model'" in res.stderr


def test_orthogonalised_export_under_mean_ablation_is_refused(tmp_path):
    """The exported weights equal zero ablation only; under mean ablation they would be a
    different model from the one measured (issue 13 item 2), so the config is refused."""
    cfg = tmp_path / "steer.yaml"
    cfg.write_text("save_orthogonalized: true\nintervention:\n  ablation_mode: mean\n")
    res = _run("--config", str(cfg), "--out", str(tmp_path / "run"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "save_orthogonalized" in res.stderr and "ablation_mode: zero" in res.stderr
    assert not (tmp_path / "run" / "orthogonalized_model").exists()
