"""Rebuild an `Answer` from its stored `Answer.to_json()` form, so a restored conversation renders like a live one.

Fields are read defensively: keys the current `rag.types` classes do not know are ignored and
missing ones take the dataclass default, so conversations stored by an older or newer app
still open. The trust fields (`abstained`, `answered_from`, `memory_confidence`) round-trip; an
answer stored before them opens as a documents/memory answer by its `retrieved` flag.

    answer = answer_from_json(json.loads(stored))
    if is_abstained(answer): ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from rag.types import Answer, Citation, Conflict, Passage


def _build(cls: type, data: Mapping[str, Any], **override: Any) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    values.update(override)
    for f in dataclasses.fields(cls):  # lists in JSON, tuples in the frozen dataclasses
        if isinstance(values.get(f.name), list):
            values[f.name] = tuple(values[f.name])
    return cls(**values)


def answer_from_json(data: Mapping[str, Any]) -> Answer:
    passages = tuple(_build(Passage, p) for p in data.get("passages") or ())
    citations = tuple(_build(Citation, c) for c in data.get("citations") or ())
    conflict = _build(Conflict, data.get("conflict") or {"available": False})
    return _build(Answer, data, passages=passages, citations=citations, conflict=conflict,
                  question=data.get("question", ""), answer=data.get("answer", ""),
                  retrieved=bool(data.get("retrieved", False)), mode=data.get("mode", ""))


def answer_to_json(answer: Any) -> dict[str, Any]:
    """`Answer.to_json()` plus `abstained` when the object carries it."""
    data = dict(answer.to_json())
    if "abstained" not in data and hasattr(answer, "abstained"):
        data["abstained"] = bool(answer.abstained)
    return data


def is_abstained(answer: Any, data: Mapping[str, Any] | None = None) -> bool:
    """True when the answer says the information is not available (the `abstained` field, when present)."""
    if data is not None and "abstained" in data:
        return bool(data["abstained"])
    return bool(getattr(answer, "abstained", False))
