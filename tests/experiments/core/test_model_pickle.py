"""A model folder whose pickle weights carry code is refused in one line, code never run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import torch

from experiments.organism import MODEL_DIR

ROOT = Path(__file__).resolve().parents[3]


class _Payload:
    """Unpickling this would run ``exec`` and leave a marker file: the attack being refused."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def test_malicious_pickle_folder_exits_2_without_suggesting_unsafe_loading(tmp_path):
    folder = tmp_path / "evil"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(MODEL_DIR / name, folder / name)
    marker = tmp_path / "code_ran"
    torch.save({"model.embed_tokens.weight": _Payload(marker)}, folder / "pytorch_model.bin")
    res = subprocess.run([sys.executable, "-c", "from reportgen.cli.entry import main; main()", "run", "steering",
                          "--model", str(folder), "--out", str(tmp_path / "run")],
                         cwd=ROOT, check=False, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "weights are not safe to load" in res.stderr and str(folder) in res.stderr
    assert "weights_only" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not marker.exists()
