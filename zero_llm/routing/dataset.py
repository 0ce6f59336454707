r"""The labelled routing prompts: reading the training and validation splits.

In: a split name (``train`` or ``validation``) and optionally the data directory. Out:
``Example`` rows (text, task, language, source). The prompts live in ``zero_llm/routing/data/
<split>/<task>.txt`` and, one folder per later writer, ``<split>/<writer>/<task>.txt``, one per
line, ``\n`` standing for a line break inside a prompt (``data/LABELLING.md`` says how they
are labelled). They are for training and evaluation in a source checkout; the wheel ships the
trained weights only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from zero_llm.errors import ConfigurationError

__all__ = ["DATA_DIR", "TASKS", "Example", "language_of", "load_folder", "load_split"]

DATA_DIR = Path(__file__).with_name("data")
"""Where the splits live in a source checkout."""

TASKS: tuple[str, ...] = ("analysis", "code", "quick")
"""The labels, one file per label in each split."""

_HEBREW = re.compile(r"[\u05d0-\u05ea]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled prompt."""

    text: str
    task: str
    language: str
    """``en``, ``he`` (Hebrew only) or ``mixed`` (Hebrew with English words)."""
    source: str = ""
    """The writer's folder inside the split (``""`` for the split's own files)."""


def language_of(text: str) -> str:
    """Tell English, Hebrew and mixed prompts apart (mixed: Hebrew with English words)."""
    if not _HEBREW.search(text):
        return "en"
    return "mixed" if _LATIN_WORD.search(text) else "he"


def load_folder(folder: Path, source: str = "") -> list[Example]:
    """Read the prompts of one folder of ``analysis.txt``, ``code.txt``, ``quick.txt``.

    Prompts come in file order, tasks in ``TASKS`` order; a missing file adds none, but a folder
    with none of the three is refused (a wrong path would otherwise score nothing).
    """
    if not folder.is_dir():
        raise ConfigurationError(f"routing prompts folder {folder} not found")
    files = [(task, folder / f"{task}.txt") for task in TASKS]
    if not any(path.is_file() for _, path in files):
        raise ConfigurationError(
            f"routing prompts folder {folder} has none of "
            + ", ".join(f"{task}.txt" for task in TASKS)
        )
    examples: list[Example] = []
    for task, path in files:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = line.replace("\\n", "\n")
                examples.append(Example(text, task, language_of(text), source))
    return examples


def load_split(split: str, data_dir: Path | None = None) -> list[Example]:
    """Read every prompt of one split: its own files, then each writer's folder in name order.

    Within a folder the prompts come in file order, tasks in ``TASKS`` order.
    """
    folder = (data_dir or DATA_DIR) / split
    if not folder.is_dir():
        raise ConfigurationError(
            f"routing data split {split!r} not found at {folder} (the prompts ship in the "
            "source repository, not in the wheel)"
        )
    examples: list[Example] = []
    writers = sorted(p for p in folder.iterdir() if p.is_dir())
    for source in (folder, *writers):
        name = "" if source == folder else source.name
        if any((source / f"{task}.txt").is_file() for task in TASKS):
            examples += load_folder(source, name)
    return examples
