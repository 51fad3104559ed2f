"""One typed, frozen configuration tree for adaptrag.

Values come from (lowest to highest precedence) the defaults below, a TOML file,
`ADAPTRAG_*` environment variables and CLI flags. They are resolved once, at the
edge (CLI, app, tests), by `load_config`; components receive the typed dataclass
for their stage and never read files or the environment themselves.

    cfg = load_config(toml_path="adaptrag.toml", overrides={"retrieval.top_k": 5})

An unknown key or an invalid value raises `ConfigError` naming the key and the
allowed keys or values.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

Backend = Literal["hf", "openai"]
Mode = Literal["adaptive", "always", "never"]
DyPRAGMode = Literal["off", "inject", "combine"]
IndexInputs = Literal["auto", "on", "off"]
RetrievalMethod = Literal["hybrid", "dense", "bm25"]
DType = Literal["float32", "bfloat16"]
VectorStoreKind = Literal["edge", "qdrant-local"]  # embedded engines; see indexing/store.py


class ConfigError(ValueError):
    """A configuration key or value is invalid; the message names it and what is allowed."""


def default_data_home() -> Path:
    """Where adaptrag keeps its state when nothing else is configured (XDG data home)."""
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "adaptrag"


def default_cache_home() -> Path:
    """Where assembled model files and other rebuildable things live (XDG cache home)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "adaptrag"


@dataclass(frozen=True)
class ModelConfig:
    """The generator: which model, served by which backend."""

    name: str = "smollm2-135m"  # registry name (see rag/models.py) or a local path
    backend: Backend = "hf"  # hf: in-process transformers; openai: an OpenAI-compatible server (vLLM)
    base_url: str | None = None  # server URL for backend=openai, e.g. http://127.0.0.1:8000/v1
    api_key: str = "EMPTY"  # vLLM ignores it unless started with --api-key
    served_name: str | None = None  # model name on the server if it differs from `name`
    router_adapter: str | None = None  # path of the <RET> router LoRA; None = the one shipped for this model, if any
    # hf backend compute dtype. bfloat16 (issue 16): prompts 1.8x faster (evals/bench_speed.py), always-mode answers
    # 1.4x faster on the workload test split, same quality there (success 78.7% vs 78.5%) and on 300 PopQA questions
    # (25.3% vs 24.7%); float32 gives the same greedy text on every batch shape. Training and labelling stay float32.
    dtype: DType = "bfloat16"
    threads: int = 0  # torch intra-op threads for the hf backend; 0 = every core this process may use (issue 16)
    timeout_s: float = 120.0  # per request, openai backend
    max_retries: int = 3  # openai backend, with exponential backoff
    cache_dir: str = ""  # where split GGUF parts are assembled; "" = ~/.cache/adaptrag/models

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise ConfigError(f"model.threads must be 0 (every available core) or more, got {self.threads}")


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings shared by every generator call of the answer path."""

    max_new_tokens: int = 48  # answers are short; PopQA answers are entities
    temperature: float = 0.0  # greedy: reproducible answers and log-probs
    context_tokens: int = 1536  # budget for passages in the grounded prompt; least relevant dropped beyond it

    def __post_init__(self) -> None:
        _positive("generation.max_new_tokens", self.max_new_tokens)
        _positive("generation.context_tokens", self.context_tokens)


@dataclass(frozen=True)
class IndexConfig:
    """Where documents are indexed and how they are chunked and embedded."""

    path: str = ""  # index folder; "" = ~/.local/share/adaptrag/index
    qdrant_url: str | None = None  # a Qdrant server/cluster instead of the embedded store
    collection: str = "adaptrag"  # Qdrant collection name
    embedding_model: str = "minilm-l6"  # registry name or local sentence-transformers folder
    chunk_tokens: int = 200  # embedding-model tokens per chunk (MiniLM truncates at 256)
    chunk_overlap: int = 40  # tokens shared by consecutive chunks
    embed_batch_size: int = 64  # sentences per embedding forward pass
    max_file_mb: float = 50.0  # larger files are skipped with a reason
    lock_timeout_s: float = 0.0  # wait this long for another writer; 0 = fail at once
    vector_store: VectorStoreKind = "edge"  # embedded engine when qdrant_url is unset; edge measured fastest
    hnsw: bool = False  # build an HNSW graph (embedded edge, >= 20k chunks); exact search meets 30 ms at 100k

    def __post_init__(self) -> None:
        _positive("index.chunk_tokens", self.chunk_tokens)
        _positive("index.embed_batch_size", self.embed_batch_size)
        if self.chunk_overlap >= self.chunk_tokens:
            raise ConfigError(
                f"index.chunk_overlap ({self.chunk_overlap}) must be smaller than index.chunk_tokens ({self.chunk_tokens})"
            )


@dataclass(frozen=True)
class RetrievalConfig:
    """Hybrid search: dense vectors + BM25, fused by weighted reciprocal rank."""

    method: RetrievalMethod = "hybrid"
    top_k: int = 3  # passages handed to the generator
    candidates: int = 50  # per-retriever depth before fusion
    # Fusion defaults from evals/bench_retrieval.py: with rrf_k=60 and equal weights hybrid lost to dense
    # on NQ; with rrf_k=1 and BM25 at 0.3 it was >= the better single retriever on PopQA, NQ and SQuAD.
    # BM25 at 0.3 capped a chunk only BM25 finds (a rare name: "Project Ormstead") at rank 6 behind five dense
    # look-alikes; with 5,000 near-duplicate distractors (evals/distractors.py) recall@3 fell to 55% on the
    # fictional workload. At 0.75 BM25's top hit reaches rank 2 (dense still keeps the top-1 unless BM25
    # agrees): 100% there, and PopQA recall@1/@5 0.438/0.492 vs 0.435/0.490 at 0.3.
    dense_weight: float = 1.0  # RRF weight of the dense ranking
    bm25_weight: float = 0.75  # RRF weight of the BM25 ranking
    rrf_k: int = 1  # RRF constant (Cormack et al. use 60; small k trusts the top ranks more)

    def __post_init__(self) -> None:
        _positive("retrieval.top_k", self.top_k)
        _positive("retrieval.candidates", self.candidates)
        if self.method == "hybrid" and self.dense_weight == 0 and self.bm25_weight == 0:
            raise ConfigError("retrieval.dense_weight and retrieval.bm25_weight are both 0; one must be positive")


@dataclass(frozen=True)
class DecideConfig:
    """When to retrieve."""

    mode: Mode = "adaptive"  # adaptive falls back to always (with a warning) when no router exists
    threshold: float | None = None  # P(<RET>) above which to retrieve; None = the router's calibrated value
    calculator: bool = True  # a sum ("What is 58 - 11?") or a small word or unit task is worked out exactly, in every mode


@dataclass(frozen=True)
class InjectConfig:
    """DyPRAG: passages as per-question LoRA weights."""

    dyprag: DyPRAGMode = "off"
    translator: str | None = None  # translator file; None = the one built for this model, else the shipped one
    # `index add` stores each new chunk's translator input (one base-model pass per chunk) so a question
    # encodes no passage: auto = when a translator is configured or built (not the shipped one), on, off
    index_inputs: IndexInputs = "auto"
    # factor on the injected delta (scale * B A); None = the translator's calibrated scale (`dyprag bench --calibrate`)
    scale: float | None = None


@dataclass(frozen=True)
class ConflictConfig:
    """Knowledge-conflict check between memory and documents."""

    enabled: bool = True
    min_confidence: float = 0.6  # closed-book answers less confident than this never raise a memory conflict
    # (confidence = geometric-mean probability of the answer's content tokens; 0.6 from the workloads' dev curve in
    # rag/evidence_calibration.json: false flags 1.9% vs 8.3% at the former 0.35)
    # ... or than this when every name word of the question's subject is one token of the model's vocabulary
    # (rag.evidence.familiar_subject: "Nigeria", not "Halworth Textiles"): a name the model saw often enough to
    # keep whole is one it may know at middling confidence ("The capital of Nigeria is Abuja", 49%), while its
    # middling answers about names it holds in pieces were inventions (rag/conflict.py); so does a question naming
    # no subject (common knowledge: "Which planet is the largest in our solar system?", a right "Jupiter" at 51%)
    min_confidence_familiar: float = 0.45
    # ... or than this about a name the model's vocabulary holds only in pieces (rag.evidence.unfamiliar_name:
    # "Quennick"): the confidence memory needs to answer about such a name (memory_threshold_unfamiliar); a 63%
    # "2 hours and 20 minutes" for the Isle of Quennick's ferry was a false memory conflict
    min_confidence_unfamiliar: float = 0.9
    threshold: float | None = None  # flag above this score; None = the thresholds fitted with the calibration
    max_passages: int = 3  # top passages that each get a reading (one row each of the evidence batch)
    # Not read since the evidence stage (rag/evidence.py) writes the closed-book answer and the readings with
    # generation.max_new_tokens; kept so that existing config files still load.
    closed_book_tokens: int = 16
    passage_tokens: int = 12
    calibration: str = ""  # JSON of logistic coefficients; "" = rag/conflict_calibration.json (eval conflicts --fit, evals/conflict_fitting.py)
    # JSON of P(passage answers) coefficients and the answer/memory thresholds behind abstention;
    # "" = rag/evidence_calibration.json (python -m evals.evidence_fit)
    evidence_calibration: str = ""


@dataclass(frozen=True)
class Config:
    """The whole tree. Sections are named as in the TOML file: [model], [index], ..."""

    model: ModelConfig = field(default_factory=ModelConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    decide: DecideConfig = field(default_factory=DecideConfig)
    inject: InjectConfig = field(default_factory=InjectConfig)
    conflict: ConflictConfig = field(default_factory=ConflictConfig)

    def index_path(self) -> Path:
        return Path(self.index.path).expanduser() if self.index.path else default_data_home() / "index"

    def model_cache(self) -> Path:
        return Path(self.model.cache_dir).expanduser() if self.model.cache_dir else default_cache_home() / "models"


def _positive(key: str, value: float) -> None:
    if value <= 0:
        raise ConfigError(f"{key} must be greater than 0, got {value}")


# Short environment names the architecture promises, besides the generic ADAPTRAG_<SECTION>_<KEY>.
ENV_ALIASES: dict[str, str] = {
    "ADAPTRAG_MODEL": "model.name",
    "ADAPTRAG_BACKEND": "model.backend",
    "ADAPTRAG_BASE_URL": "model.base_url",
    "ADAPTRAG_INDEX": "index.path",
    "ADAPTRAG_QDRANT_URL": "index.qdrant_url",
    "ADAPTRAG_MODE": "decide.mode",
    "ADAPTRAG_DYPRAG": "inject.dyprag",
}
# ADAPTRAG_* variables that are not settings: the TOML file itself, test/service plumbing and the
# compose file's host-side variables. Any other unknown ADAPTRAG_* variable is a typo and fails.
NOT_KEYS = {
    "ADAPTRAG_CONFIG", "ADAPTRAG_VLLM_VENV", "ADAPTRAG_VLLM_READY_TIMEOUT",
    "ADAPTRAG_MODELS_DIR", "ADAPTRAG_DOCS_DIR", "ADAPTRAG_SERVED_NAME",
}


def load_config(
    toml_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Resolve the configuration: defaults < TOML < environment < overrides.

    Args:
        toml_path: a TOML file with [section] tables; None = $ADAPTRAG_CONFIG if set.
        env: environment to read ADAPTRAG_* from; None = os.environ.
        overrides: dotted keys ("retrieval.top_k") from CLI flags; None values are ignored.

    Returns:
        The frozen `Config`.

    Raises:
        ConfigError: unknown key or invalid value, naming it and what is allowed.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    toml_path = toml_path or env.get("ADAPTRAG_CONFIG")
    if toml_path:
        path = Path(toml_path).expanduser()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
        for section, table in data.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: top-level key {section!r} must be a [section]; sections: {_sections()}")
            for key, value in table.items():
                values[f"{section}.{key}"] = value
    for name, raw in env.items():
        if not name.startswith("ADAPTRAG_") or name in NOT_KEYS:
            continue
        values[_env_key(name)] = raw
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    return build_config(values)


def build_config(values: Mapping[str, Any]) -> Config:
    """Build a `Config` from dotted keys, validating each against its field type."""
    sections: dict[str, dict[str, Any]] = {}
    fields = {f.name: f for f in dataclasses.fields(Config)}
    for dotted, value in values.items():
        section, _, key = dotted.partition(".")
        if section not in fields:
            raise ConfigError(f"unknown config section {section!r} in {dotted!r}; sections: {_sections()}")
        cls = _section_type(section)
        sub = {f.name: f for f in dataclasses.fields(cls)}
        if key not in sub:
            raise ConfigError(f"unknown config key {dotted!r}; keys of [{section}]: {', '.join(sub)}")
        sections.setdefault(section, {})[key] = _coerce(dotted, value, typing.get_type_hints(cls)[key])
    return Config(**{name: _section_type(name)(**kw) for name, kw in sections.items()})


def _section_type(section: str) -> type:
    return typing.get_type_hints(Config)[section]


def _sections() -> str:
    return ", ".join(f.name for f in dataclasses.fields(Config))


def _env_key(name: str) -> str:
    if name in ENV_ALIASES:
        return ENV_ALIASES[name]
    rest = name.removeprefix("ADAPTRAG_").lower()
    for f in dataclasses.fields(Config):
        if rest.startswith(f.name + "_"):
            return f"{f.name}.{rest[len(f.name) + 1:]}"
    raise ConfigError(
        f"unknown environment variable {name}; use ADAPTRAG_<SECTION>_<KEY> with sections {_sections()} "
        f"or one of {', '.join(sorted(ENV_ALIASES | dict.fromkeys(NOT_KEYS)))}"
    )


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """Convert a TOML/env/CLI value to the field's type or raise ConfigError naming the key."""
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
            return None
        return _coerce(key, value, args[0])
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(f"invalid value {value!r} for {key}; allowed: {', '.join(map(str, allowed))}")
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"invalid value {value!r} for {key}; allowed: true, false")
    if tp in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"invalid value {value!r} for {key}; expected a number")
        try:
            number = tp(value)
        except (TypeError, ValueError):
            raise ConfigError(f"invalid value {value!r} for {key}; expected {tp.__name__}") from None
        if tp is int and isinstance(value, float) and value != number:
            raise ConfigError(f"invalid value {value!r} for {key}; expected an integer")
        if number < 0:
            raise ConfigError(f"invalid value {value!r} for {key}; must be >= 0")
        return number
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"invalid value {value!r} for {key}; expected a string")
        return value
    raise ConfigError(f"unsupported type {tp} for {key}")
