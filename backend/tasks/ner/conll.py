"""CoNLL files of tagged tokens for ``ls-active simulate`` and the demo.

One token per line with its tag in the last column (tab- or space-separated; other
columns are ignored), a blank line between sentences, ``-DOCSTART-`` lines skipped. Tags
may be BIO (IOB2), IOB1 or IO (``I-`` only): every sentence is repaired to IOB2, so an
entity opens with ``B-``. The text of a sentence is its tokens joined by single spaces,
so its entities' character offsets follow from that join; a token of only whitespace
(some files hold a few) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backend.errors import SimulationError
from backend.tasks.ner.bio import repair, tags_to_ranges
from backend.tasks.ner.tokens import from_words

#: File suffixes read as CoNLL.
SUFFIXES = (".conll", ".conllu", ".bio", ".iob", ".iob2")


@dataclass(frozen=True)
class Sentence:
    """A tagged sentence: its words, IOB2 tags, and the space-joined text."""

    words: tuple[str, ...]
    tags: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def spans(self) -> list[tuple[int, int, str]]:
        """Its entities as character (start, end, label) in :attr:`text`."""
        _, tokens = from_words(list(self.words))
        return [(tokens[a].start, tokens[b - 1].end, label) for a, b, label in tags_to_ranges(self.tags)]


def _tag(raw: str, path: Path, line_no: int) -> str:
    if raw == "O":
        return raw
    prefix, dash, label = raw.partition("-")
    if not dash or prefix not in ("B", "I", "E", "S") or not label:
        raise SimulationError(f"{path.name} line {line_no}: tag {raw[:30]!r} is not O, B-X or I-X; "
                              "the tag must be the last column")
    return ("B-" if prefix in ("B", "S") else "I-") + label


def read_conll(path: Path) -> list[Sentence]:
    """Every sentence of ``path`` (sentences without tokens skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SimulationError(f"cannot read {path}: {exc}; pass a UTF-8 CoNLL file") from None
    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    for number, line in enumerate([*lines, ""], start=1):
        columns = line.split("\t") if "\t" in line else line.split()
        columns = [c.strip() for c in columns]
        if not line.strip() or columns[0] == "-DOCSTART-":
            if words:
                sentences.append(Sentence(tuple(words), tuple(repair(tags))))
            words, tags = [], []
            continue
        if len(columns) < 2:
            raise SimulationError(f"{path.name} line {number}: expected a token and a tag; got {line[:40]!r}")
        if not columns[0]:  # a token of only spaces (they occur) cannot be part of a joined text
            continue
        words.append(columns[0])
        tags.append(_tag(columns[-1], path, number))
    if not sentences:
        raise SimulationError(f"{path} has no tagged sentences")
    return sentences


def entity_labels(sentences: list[Sentence]) -> tuple[str, ...]:
    """The entity labels the file uses, sorted."""
    return tuple(sorted({t[2:] for s in sentences for t in s.tags if t != "O"}))
