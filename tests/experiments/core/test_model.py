"""Model loading: local folders round-trip, errors are one line and typed."""

from __future__ import annotations

import pytest
import torch

from experiments.core.errors import ChatTemplateError, ModelLoadError
from experiments.core.model import load_model, resolve_model_path


@pytest.fixture(scope="module")
def saved_tiny(tiny_random_lm, tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny")
    tiny_random_lm.model.save_pretrained(path)
    tiny_random_lm.tokenizer.save_pretrained(path)
    return path


def test_local_folder_loads_same_model(tiny_random_lm, saved_tiny):
    lm = load_model(str(saved_tiny), device="cpu")
    assert lm.dtype == torch.float32 and lm.device.type == "cpu"
    assert (lm.n_layers, lm.d_model) == (tiny_random_lm.n_layers, tiny_random_lm.d_model)
    assert lm.revision.startswith("sha256:")
    assert lm.revision == load_model(str(saved_tiny), device="cpu").revision
    ids = torch.tensor([[2, 5, 7, 9]])
    assert torch.allclose(lm.model(ids).logits, tiny_random_lm.model(ids).logits, atol=1e-5)
    assert lm.tokenizer.padding_side == "left"
    assert len(lm.layers) == lm.n_layers and lm.final_norm is lm.decoder.norm


def test_dtype_override(saved_tiny):
    assert load_model(str(saved_tiny), device="cpu", dtype="bfloat16").model.dtype == torch.bfloat16


@pytest.mark.parametrize("name", ["./no/such/folder", "/definitely/not/here", "a/b/c"])
def test_unknown_path_is_one_line_error(name):
    with pytest.raises(ModelLoadError) as err:
        load_model(name)
    assert "\n" not in str(err.value) and name in str(err.value)


def test_hub_ids_with_dots_are_not_taken_for_paths():
    assert resolve_model_path("Qwen/Qwen2-1.5B-Instruct") == ("Qwen/Qwen2-1.5B-Instruct", False)


def test_missing_chat_template_is_one_line_error(saved_tiny, tmp_path):
    import shutil

    for f in saved_tiny.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "chat_template.jinja").unlink(missing_ok=True)
    import json

    cfg = tmp_path / "tokenizer_config.json"
    data = json.loads(cfg.read_text())
    data.pop("chat_template", None)
    cfg.write_text(json.dumps(data))
    lm = load_model(str(tmp_path), device="cpu")
    assert not lm.has_chat_template
    with pytest.raises(ChatTemplateError) as err:
        load_model(str(tmp_path), device="cpu", require_chat_template=True)
    assert "\n" not in str(err.value) and "completion" in str(err.value)
