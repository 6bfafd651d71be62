"""What ``ls-active demo`` puts in its project: a labeling config and a few thousand texts.

The default is the TREC question set in the repository (``datasets/trec6.csv``)
with the repository's ``label_config.xml``. An installed wheel has neither, so it falls back
to an embedded copy of the config and a small generated sample of questions. A user's own
file brings its own classes: from ``--labels`` or the distinct values of a label column; a
CoNLL file makes a named-entity project instead (:mod:`backend.ops.demo_conll`).
"""

from __future__ import annotations

import itertools
import string
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from backend.errors import LsActiveError
from backend.ops.demo_conll import conll_demo, is_conll
from backend.tasks.records import read_rows

REPO_ROOT = Path(__file__).resolve().parents[2]
#: From a checkout the demo uses the real TREC questions.
DEFAULT_DATA = REPO_ROOT / "datasets" / "trec6.csv"
#: A project with more classes than this is not a classification demo any more.
MAX_CLASSES = 100

#: The same interface as the repository's ``label_config.xml``, for installs without it.
EMBEDDED_LABEL_CONFIG = """<View>
  <Header value="What is this question asking for?"/>
  <Text name="text" value="$text"/>
  <Choices name="label" toName="text" choice="single-radio" showInLine="true">
    <Choice value="ABBR" hint="an abbreviation or its expansion"/>
    <Choice value="DESC" hint="a description, definition, manner or reason"/>
    <Choice value="ENTY" hint="an entity: animal, colour, product, event, ..."/>
    <Choice value="HUM" hint="a person or a group"/>
    <Choice value="LOC" hint="a location"/>
    <Choice value="NUM" hint="a number, date, count, amount, ..."/>
  </Choices>
</View>
"""

#: The generated sample: question templates per TREC class, filled from small word lists.
_SUBJECTS = ("the telephone", "the printing press", "penicillin", "the steam engine", "radar", "the compass",
             "the bicycle", "paper money", "the light bulb", "the microscope", "chess", "the violin")
_PLACES = ("Canada", "Peru", "Norway", "Kenya", "Japan", "Chile", "Egypt", "Portugal", "Nepal", "Mexico",
           "Iceland", "Vietnam")
_THINGS = ("volcano", "glacier", "comet", "coral reef", "tornado", "rainbow", "desert", "tide", "eclipse",
           "earthquake", "hurricane", "geyser")
_ACRONYMS = ("NASA", "UNESCO", "NATO", "DNA", "RAM", "GPS", "HTML", "UFO", "CEO", "ATM", "PDF", "WHO")
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "ABBR": ("What does {acronym} stand for ?", "What is the full form of {acronym} ?",
             "What is the abbreviation {acronym} short for ?"),
    "DESC": ("How does a {thing} form ?", "Why do people study the {thing} ?", "What is a {thing} ?",
             "How was {subject} invented ?"),
    "ENTY": ("What animal is the symbol of {place} ?", "What sport is most popular in {place} ?",
             "What food is {place} famous for ?", "What instrument is heard in the music of {place} ?"),
    "HUM": ("Who invented {subject} ?", "Who was the first president of {place} ?",
            "Who discovered the first {thing} in {place} ?", "Which company made {subject} popular ?"),
    "LOC": ("Where is the largest {thing} in {place} ?", "What is the capital of {place} ?",
            "In which country was {subject} first used ?", "Where can you see a {thing} near {place} ?"),
    "NUM": ("How many people live in {place} ?", "When was {subject} invented ?",
            "How tall is the highest {thing} in {place} ?", "How much did {subject} cost in 1900 ?"),
}


class DemoDataError(LsActiveError):
    """The demo's data or labels cannot make a project; the message says what to pass."""


@dataclass(frozen=True)
class DemoData:
    """The project to create: its config, its texts, and a short name for its title."""

    label_config: str
    texts: tuple[str, ...]
    name: str
    #: What the data's licence asks the demo to say where it uses the data.
    credit: str = ""

    def tasks(self) -> list[dict[str, dict[str, str]]]:
        return [{"data": {"text": text}} for text in self.texts]


def repository_label_config() -> str:
    """The repository's ``label_config.xml`` when present, else the embedded copy."""
    path = REPO_ROOT / "label_config.xml"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return EMBEDDED_LABEL_CONFIG


def choices_config(labels: list[str]) -> str:
    """A one-choice text classification config over ``labels``."""
    options = "".join(f'\n    <Choice value={quoteattr(label)}/>' for label in labels)
    return (f'<View>\n  <Text name="text" value="$text"/>\n'
            f'  <Choices name="label" toName="text" choice="single-radio" showInLine="true">{options}\n'
            f"  </Choices>\n</View>\n")


def sample_texts(limit: int, seed: int = 0) -> tuple[str, ...]:
    """Up to ``limit`` distinct generated questions of all six classes, in a seeded order."""
    words = {"subject": _SUBJECTS, "place": _PLACES, "thing": _THINGS, "acronym": _ACRONYMS}
    texts: set[str] = set()
    for template in itertools.chain.from_iterable(_TEMPLATES.values()):
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name]
        for values in itertools.product(*(words[name] for name in fields)):
            texts.add(template.format(**dict(zip(fields, values, strict=True))))
    unique = sorted(texts)
    order = np.random.default_rng(seed).permutation(len(unique))
    return tuple(unique[i] for i in order[:limit])


def _column(rows: list[dict[str, object]], column: str, option: str, path: Path) -> list[str]:
    if not rows or column not in rows[0]:
        found = ", ".join(str(c) for c in (rows[0] if rows else {})) or "none"
        raise DemoDataError(f"{path} has no column {column!r} (columns: {found}); pass {option} COLUMN")
    return [str(row.get(column) or "").strip() for row in rows]


def _classes(rows: list[dict[str, object]], labels: str | None, label_column: str | None, path: Path) -> list[str]:
    if labels:
        chosen = [part.strip() for part in labels.split(",") if part.strip()]
    elif label_column or (rows and "label" in rows[0]):
        chosen = sorted({v for v in _column(rows, label_column or "label", "--label-column", path) if v})
    else:
        raise DemoDataError(f"{path} has no 'label' column: name the classes with --labels A,B,C "
                            "or the column holding them with --label-column COLUMN")
    if not 2 <= len(set(chosen)) <= MAX_CLASSES:
        raise DemoDataError(f"the demo needs 2 to {MAX_CLASSES} classes; got {len(set(chosen))} ({chosen[:5]}...)")
    return list(dict.fromkeys(chosen))


def load_demo_data(
    path: Path | None,
    *,
    text_column: str = "text",
    label_column: str | None = None,
    labels: str | None = None,
    limit: int = 3000,
) -> DemoData:
    """The texts and config of the demo project (see the module docstring for the choices)."""
    if limit < 1:
        raise DemoDataError(f"--limit must be at least 1; got {limit}")
    if path is None and DEFAULT_DATA.exists():
        path, default = DEFAULT_DATA.resolve(), True
    elif path is None:
        return DemoData(repository_label_config(), sample_texts(limit), "sample questions")
    else:
        default = False
    if not path.exists():
        raise DemoDataError(f"{path} does not exist; pass --data with a CSV or JSON file of texts "
                            "or a CoNLL file of tagged sentences")
    if is_conll(path):
        config, sentences, credit = conll_demo(path, limit, DemoDataError)
        return DemoData(config, sentences, path.stem, credit)
    rows = read_rows(path)
    texts = tuple(t for t in _column(rows, text_column, "--text-column", path) if t)[:limit]
    if not texts:
        raise DemoDataError(f"{path} has no non-empty text in column {text_column!r}")
    if default and not labels and not label_column:
        return DemoData(repository_label_config(), texts, path.stem)
    return DemoData(choices_config(_classes(rows, labels, label_column, path)), texts, path.stem)
