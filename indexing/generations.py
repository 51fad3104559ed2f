"""Which generation of an index folder is committed: the one its CURRENT file names.

A leaf module (nothing of the project below it), so readers of generation files, such as the DyPRAG
injector looking for stored translator inputs, need not import the index and its writer.
See indexing/index.py for the folder layout and why generations exist.
"""

from __future__ import annotations

from pathlib import Path


def committed_generation(index_path: Path) -> Path | None:
    """The folder of an index's committed generation (what CURRENT names); None before the first commit."""
    try:
        name = (Path(index_path) / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    return Path(index_path) / name if name else None
