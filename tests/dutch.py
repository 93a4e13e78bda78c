"""Is a message for users Dutch? The check behind tests/test_messages.py and test_bad_input.py.

A message may name files, keys, columns, options, codes and values (they are English or code by
contract); those are taken out first: paths and file names, anything quoted ('...', "...", `...`),
--options, codes and numbers, identifiers (snake_case, CamelCase, dotted.keys), and a library's own
text after ``technische melding:`` (analysis.errors.technisch). What is left must be Dutch:

* no English function word of :data:`ENGLISH` (hunspell-nl knows some English words, so this list
  catches the common "not found", "must be", "missing" even where the dictionary would not), and
* every word known to hunspell with the Dutch dictionary (Debian `hunspell` + `hunspell-nl`, as in
  tests/test_spelling.py), the project word list or the message word list
  (tests/data/meldingen_woordenlijst.txt: YAML values, command names and terms such as Parquet).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

DATA = Path(__file__).parent / "data"
WOORDENLIJSTEN = (DATA / "spelling_woordenlijst.txt", DATA / "meldingen_woordenlijst.txt")

# English words that are not Dutch words (Dutch shares "in", "is", "of", "door", "over", "want" ...)
ENGLISH = frozenset(
    """the and not must should found missing expected with without from cannot unknown needs has have
    only first run no does are was were which this that there than into after before empty file files
    column columns key keys value values invalid failed skipped line more one or used used up
    answer attempts retries more than could would will can't isn't doesn't
    give given got see use unreadable readable error warning table tables pull
    if when while sheet sheets available required allowed least most both either neither
    between below above out already done""".split()
)

_TECH = re.compile(r"technische melding:.*$", re.S)
_DROP = [
    # a list of names after these words (known keys, choices, values found)
    re.compile(r"\b(?:bekend|bekende \w+|beschikbaar|kies uit|verwacht een van|gevonden):[^;()]*"),
    re.compile(r"`[^`]*`"),  # commands
    re.compile(r"'[^'\n]*'"),  # values, keys, file names
    re.compile(r'"[^"\n]*"'),
    re.compile(r"\{[^{}]*\}"),  # placeholders and dict values
    re.compile(r"\[[^\[\]]*\]"),  # lists of values
    re.compile(r"\S*[/\\]\S*"),  # paths, s/blad, gemeente->provincie
    re.compile(r"--?[A-Za-z][\w-]*(?: [^\s:;,()]+)?(?=:)"),  # an option and its bad value: "--timeout nan:"
    re.compile(r"--?[A-Za-z][\w-]*"),  # options
    re.compile(r"\b\w+\.\w[\w.*]*"),  # file names, dotted keys, numbers with a decimal point
    re.compile(r"(?<!\w)\.[A-Za-z]\w*"),  # file extensions (.csv)
    re.compile(r"\b[\w-]*[\d_][\w-]*"),  # codes (GM0642, utf-16-le), numbers, snake_case identifiers
    re.compile(r"\b[A-Z][a-z]+[A-Z]\w*"),  # CamelCase identifiers (TypedDataSet, FeatureCollection)
    re.compile(r"\b[A-Z]{2,}s?\b"),  # acronyms (CBS, PDOK, JSON, CSV, HTTP)
]
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:['’\-][A-Za-zÀ-ÿ]+)*")


def words(message: str) -> list[str]:
    """The words of ``message`` a user reads as language (names, codes and values taken out)."""
    text = _TECH.sub(" ", message)
    for pattern in _DROP:
        text = pattern.sub(" ", text)
    return [w for w in _WORD.findall(text) if len(w) > 1]


def english_words(message: str) -> set[str]:
    return {w for w in words(message) if w.lower() in ENGLISH}


def unknown_words(messages: list[str]) -> set[str]:
    """Words of all ``messages`` that hunspell (nl_NL + word lists) does not know; one hunspell run."""
    hunspell = shutil.which("hunspell")
    assert hunspell, "hunspell is required (.ci/run installs hunspell and hunspell-nl with apt)"
    every = sorted({w for m in messages for w in words(m)})
    extra = {
        ln.strip().lower()
        for f in WOORDENLIJSTEN
        for ln in f.read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    }
    every = [w for w in every if w.lower() not in extra]
    if not every:
        return set()
    out = subprocess.run(
        [hunspell, "-d", "nl_NL", "-l"],
        input="\n".join(every),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(out.stdout.split())


def not_dutch(messages: list[str]) -> dict[str, list[str]]:
    """message -> its English or unknown words, for every message that is not plain Dutch."""
    unknown = unknown_words(messages)
    out = {}
    for m in messages:
        bad = sorted(english_words(m) | (set(words(m)) & unknown))
        if bad:
            out[m] = bad
    return out


def assert_dutch(*messages: str) -> None:
    bad = not_dutch(list(messages))
    assert not bad, "niet in het Nederlands:\n" + "\n".join(f"  {w}: {m}" for m, w in bad.items())
