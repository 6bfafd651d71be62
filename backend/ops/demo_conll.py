"""``ls-active demo --data file.conll``: a named-entity project from a tagged CoNLL file.

The file is read by the simulator's own reader (:func:`backend.tasks.ner.conll.read_conll`),
so the demo and ``ls-active simulate`` agree on what a sentence is. The project's config
is one ``<Labels>`` control with the entity types the file uses, over one ``<Text>``; a
task is a sentence's tokens joined by single spaces, the text the CRF tokenizes again.
No task is pre-labeled: the file's tags only name the types (and, for a test, the truth).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

from backend.errors import LsActiveError
from backend.tasks.ner.conll import SUFFIXES, entity_labels, read_conll

#: Background colours of the labels, in order (then repeated).
PALETTE = ("#ff6b6b", "#4dabf7", "#51cf66", "#fcc419", "#cc5de8", "#ff922b", "#20c997", "#868e96")
#: The Broad Twitter Corpus in the repository: its licence asks for this credit wherever it is used.
BTC_CREDIT = ("sentences: Broad Twitter Corpus (Derczynski, Bontcheva and Roberts, COLING 2016), "
              "CC BY 4.0")


def is_conll(path: Path | None) -> bool:
    return path is not None and path.suffix.lower() in SUFFIXES


def labels_config(labels: Sequence[str]) -> str:
    """One ``<Labels>`` control with ``labels`` over one ``<Text>`` reading ``$text``."""
    options = "".join(f"\n    <Label value={quoteattr(label)} background={quoteattr(PALETTE[i % len(PALETTE)])}/>"
                      for i, label in enumerate(labels))
    return (f'<View>\n  <Labels name="label" toName="text">{options}\n  </Labels>\n'
            f'  <Text name="text" value="$text"/>\n</View>\n')


def conll_demo(path: Path, limit: int, error: type[LsActiveError]) -> tuple[str, tuple[str, ...], str]:
    """The config, the sentence texts (at most ``limit``, in file order) and a credit line, if any.

    ``error`` is the demo's own error type; a file that is not CoNLL, or holds no entity,
    raises it with the reader's message (what line, what was found).
    """
    try:
        sentences = read_conll(path)
    except LsActiveError as exc:
        raise error(str(exc)) from exc
    labels = entity_labels(sentences)
    if not labels:
        raise error(f"{path} tags no entity (every tag is O): a named-entity project needs entity types")
    texts = tuple(dict.fromkeys(s.text for s in sentences if s.text.strip()))[:limit]
    credit = BTC_CREDIT if path.name == "btc.conll" else ""
    return labels_config(labels), texts, credit
