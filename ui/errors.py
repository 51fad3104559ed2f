"""Turn exceptions into a readable message and the fix, for `st.error` (never a stack trace).

    problem, fix = explain(exc, settings_hint="backend openai, server http://127.0.0.1:8000/v1")
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class EmptyIndexError(RuntimeError):
    """The index has no documents but the question needs a search."""


def _is_connection_error(exc: BaseException) -> bool:
    names = {t.__name__ for t in type(exc).__mro__}
    if names & {"APIConnectionError", "APITimeoutError", "ConnectionError", "ConnectError", "ConnectTimeout",
                "ConnectionRefusedError"}:
        return True
    text = str(exc).lower()
    return any(s in text for s in ("connection refused", "connection error", "failed to establish", "cannot reach",
                                   "timed out", "name or service not known", "server is not reachable"))


def explain(exc: BaseException, where: str = "") -> tuple[str, str]:
    """(problem, fix) for an exception; `where` describes the settings in use (backend, model, URL)."""
    from rag.config import ConfigError
    from rag.generators.base import GeneratorError
    from rag.models import ModelNotFound

    log.warning("error shown to the user", exc_info=exc)
    ctx = f" ({where})" if where else ""
    if isinstance(exc, EmptyIndexError):
        return str(exc), "Upload documents in the sidebar, or run `adaptrag index add PATH...`, or use mode 'never'."
    if isinstance(exc, ModelNotFound):
        return f"The model could not be found{ctx}: {exc}", "Install it with the line above, or pick another model."
    if isinstance(exc, ConfigError):
        return f"Invalid setting: {exc}", "Fix the setting in the sidebar, your TOML file or ADAPTRAG_* variables."
    if _is_connection_error(exc):
        return (f"The generation server is not reachable{ctx}: {exc}",
                ("Start the server (e.g. `vllm serve MODEL --port 8000`), correct the server URL in the sidebar, "
                 "or switch the backend to hf."))
    if isinstance(exc, GeneratorError):
        return f"The generator failed{ctx}: {exc}", "Check the generator settings in the sidebar."
    if isinstance(exc, ModuleNotFoundError):
        return (f"A required module is missing: {exc.name or exc}",
                ("Install adaptrag with its extras into the app's environment: `pip install -e '.[ui]' "
                 "-c constraints.txt` (see README)."))
    if isinstance(exc, MemoryError):
        return "Out of memory while answering.", "Pick a smaller model or lower top-k."
    if isinstance(exc, (FileNotFoundError, PermissionError)):
        return f"A file could not be read: {exc}", "Check the index folder (ADAPTRAG_INDEX) and its permissions."
    if isinstance(exc, TimeoutError):
        return f"The request timed out{ctx}: {exc}", "Retry, or raise model.timeout_s."
    text = str(exc) or type(exc).__name__
    if "in use" in text.lower() or "already accessed" in text.lower() or "lock" in type(exc).__name__.lower():
        return f"The index is in use by another process: {text}", "Wait for it to finish, then retry."
    return f"Unexpected error{ctx}: {type(exc).__name__}: {text}", "Details are in the app's log (the terminal)."
