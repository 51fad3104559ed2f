"""What every `adaptrag` subcommand shares: the settings flags, their resolution into a `Config`, quiet stderr.

A leaf module: `rag/cli.py` loads the subcommand groups (indexing/cli.py, evals/cli.py, adapt/cli.py,
adapt/dyprag/cli.py) and they import these helpers from here, never from `rag.cli`, so no import circle runs
through the top-level command.

    add_common_args(parser)                     # --config --model --backend --base-url --index --qdrant-url --set
    cfg = config_from_args(args, {"retrieval.top_k": args.top_k})   # None values leave the lower layers alone
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any

from rag.config import Config, ConfigError, load_config


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Flags every subcommand accepts; they override the TOML file and ADAPTRAG_* variables."""
    g = parser.add_argument_group("settings")
    g.add_argument("--config", metavar="FILE", help="TOML settings file (default: $ADAPTRAG_CONFIG)")
    g.add_argument("--model", help="generator: registry name or local path ($ADAPTRAG_MODEL)")
    g.add_argument("--backend", help="hf (in-process) or openai (vLLM / OpenAI-compatible server) ($ADAPTRAG_BACKEND)")
    g.add_argument("--base-url", help="server URL for --backend openai, e.g. http://127.0.0.1:8000/v1")
    g.add_argument("--index", metavar="DIR", help="index folder ($ADAPTRAG_INDEX)")
    g.add_argument("--qdrant-url", help="use a Qdrant server instead of the embedded store")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any setting by dotted key, e.g. --set retrieval.top_k=5 (repeatable)")


def config_from_args(args: argparse.Namespace, extra: Mapping[str, Any] | None = None) -> Config:
    """Resolve the Config for a parsed command line: defaults < TOML < env < --set < dedicated flags.

    A flag left at its default (None) sets nothing, so it never hides the same key given by --set, the
    environment or the TOML file.
    """
    flags: dict[str, Any] = {
        "model.name": getattr(args, "model", None),
        "model.backend": getattr(args, "backend", None),
        "model.base_url": getattr(args, "base_url", None),
        "index.path": getattr(args, "index", None),
        "index.qdrant_url": getattr(args, "qdrant_url", None),
        **(extra or {}),
    }
    overrides: dict[str, Any] = {}
    for item in getattr(args, "set", None) or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        overrides[key.strip()] = value
    overrides.update({key: value for key, value in flags.items() if value is not None})
    return load_config(getattr(args, "config", None), overrides=overrides)


# Third-party loggers that speak at INFO/DEBUG while a model or an index loads (bm25s: "Building index from tokens").
_NOISY_LOGGERS = ("bm25s", "transformers", "sentence_transformers", "huggingface_hub", "httpx", "peft")


def quiet_third_party(verbose: bool) -> None:
    """Keep stderr to adaptrag's own progress and messages unless --verbose.

    Silences transformers' weight-loading progress bars, library loggers below WARNING and FutureWarnings
    raised inside dependencies. Called once by the command-line entry points, never at import. transformers
    is not imported for this (~1 s that `index ls` does not need): its variables are set before it loads,
    unless the user set them.
    """
    if verbose:
        return
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read by transformers' own bars at its import
    if "transformers" in sys.modules:  # already loaded: the variables came too late
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
