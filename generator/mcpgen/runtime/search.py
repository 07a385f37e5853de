"""Ranked search over an API's operations: what compact exposure's `search_operations` uses.

BM25F (Robertson and Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond",
2009): each field of an operation is a stream of terms with its own weight and length
normalisation, and the weighted term frequencies are summed before BM25's saturation.
Fields, from strongest to weakest: the tool's name, its title (the summary), its tags, its
path, the verbs of its HTTP method, its description, and its arguments (their names and the
values they enumerate: "close an issue" is an update whose `state` may be `closed`). Terms
are:

- words split out of identifiers (`pulls_merge`, `getCustomerById`, `/repos/{owner}`);
- lower-cased, English stop words dropped, and reduced to their stem (Porter's algorithm),
  so "merging", "merged" and "merge" are one term;
- with the usual abbreviations spelled out beside them ("repo", "PR", "org");
- in a query, also at lower weights: the verbs that mean the same in an API ("remove" looks
  for "delete" too, "my" for "authenticated", "set up" for "create"), and the longer terms a
  short one begins ("assign" finds "assignee").

The standard library only; the index of 1,223 operations builds in well under a second.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["Document", "SearchIndex", "argument_words", "query_concepts", "stem", "terms"]

K1 = 2.0  # BM25's saturation of the weighted term frequencies
SYNONYM_WEIGHT = 0.4
PREFIX_WEIGHT = 0.5
PREFIX_MIN, PREFIX_EXTRA = 4, 3  # a term of 4+ letters finds terms up to 3 letters longer
# Added for the share of a name's (a title's) terms the query asks for: of two tools that
# both match, the one whose name says no more than the query wins ("delete a repository":
# repos_delete before repos_delete_webhook).
COVERAGE = {"name": 1.5, "title": 1.0}


@dataclass(frozen=True)
class Field:
    weight: float
    b: float  # length normalisation: 0 none, 1 full


FIELDS = {
    "name": Field(3.0, 0.5),
    "title": Field(2.5, 0.5),
    "tags": Field(1.5, 0.3),
    "path": Field(1.5, 0.5),
    "verb": Field(1.0, 0.0),
    "description": Field(1.0, 0.75),
    "arguments": Field(0.5, 0.5),
}


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# What an HTTP method does, in the words a request for it would use.
METHOD_VERBS = {
    "GET": "get list read",
    "HEAD": "get read",
    "POST": "create",
    "PUT": "update set replace",
    "PATCH": "update",
    "DELETE": "delete",
}

STOP_WORDS = _word_set(
    """a about above after again all also am an and any are as at be been before being
    below between both but by can could did do does doing down during each else few for
    from further had has have having he her here hers him his how if in into is it its
    itself just let me more most my myself no nor not now of off on once only or other our
    ours out over own please same she should so some such than that the their theirs them
    then there these they this those through to too under until up us very via was we were
    what when where which while who whom why will with would you your yours"""
)

# Spelled out in a query, beside the word as written.
ABBREVIATIONS = {
    "repo": "repository",
    "repos": "repositories",
    "pr": "pull request",
    "prs": "pull requests",
    "org": "organization",
    "orgs": "organizations",
    "config": "configuration",
    "env": "environment",
    "auth": "authentication",
    "info": "information",
    "dir": "directory",
    "docs": "documentation",
    "msg": "message",
    "sub": "subscription",
    "subs": "subscriptions",
}

# Words for the caller: APIs say "the authenticated user".
SELF = frozenset({"me", "my", "myself", "mine"})

# Phrasal verbs, read as the one verb they mean.
PHRASES = {
    "set up": "create",
    "look up": "find",
    "sign up": "create",
    "logged in": "authenticated",
    "signed in": "authenticated",
}

# Words that ask for the same thing of an API; a query word brings the others of its groups
# in at SYNONYM_WEIGHT. Words, not stems: they are stemmed like everything else.
SYNONYMS = (
    "create add new make open start publish register post insert submit store save",
    "delete remove destroy erase drop discard",
    "update edit change modify rename patch alter set put",
    "list show all browse enumerate recent",
    "get fetch read retrieve show view see describe look",
    "search find lookup query",
    "cancel stop abort halt terminate",
    "user person people someone somebody member",
    "authenticated me my myself mine",
)


def terms(text: str) -> list[str]:
    """The stemmed terms of `text`: identifiers split, abbreviations spelled out beside
    themselves, stop words dropped."""
    found = []
    for word in words(text):
        spelled = ABBREVIATIONS.get(word)
        for each in (word, *(spelled.split() if spelled else ())):
            if each not in STOP_WORDS:
                found.append(stem(each))
    return found


_SPLIT = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def words(text: str) -> list[str]:
    """Lower-cased words, identifiers split: `getCustomerById` → get customer by id."""
    return [w.lower() for w in _SPLIT.findall(text)]


@dataclass(frozen=True)
class Document:
    """One operation, by the texts search reads."""

    name: str
    title: str = ""
    description: str = ""
    path: str = ""
    method: str = ""
    tags: tuple[str, ...] = ()
    arguments: str = ""  # argument names and enumerated values, space separated

    def fields(self) -> dict[str, list[str]]:
        return {
            "name": terms(self.name),
            "title": terms(self.title),
            "tags": terms(" ".join(self.tags)),
            "path": terms(self.path),
            "verb": terms(METHOD_VERBS.get(self.method.upper(), "")),
            "description": terms(self.description),
            "arguments": terms(self.arguments),
        }


def argument_words(schema: Any) -> str:
    """The names of an input schema's properties and the string values they enumerate."""
    found: list[str] = []
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if isinstance(properties, dict):
        for name, spec in properties.items():
            found.append(str(name))
            values = spec.get("enum") if isinstance(spec, dict) else None
            if isinstance(values, list):
                found += [v for v in values if isinstance(v, str)]
    return " ".join(found)


class SearchIndex:
    """Documents ranked for a query, best first; ties keep the documents' order."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.documents = tuple(documents)
        self._postings: dict[str, list[tuple[int, float]]] = {}
        lengths = {name: [0.0] * len(self.documents) for name in FIELDS}
        counts = []
        self._covered: list[dict[str, frozenset[str]]] = []
        for i, document in enumerate(self.documents):
            fields = document.fields()
            self._covered.append({name: frozenset(fields[name]) for name in COVERAGE})
            counts.append({name: Counter(found) for name, found in fields.items()})
            for name, found in fields.items():
                lengths[name][i] = len(found)
        averages = {name: (sum(v) / len(v) if v else 0.0) or 1.0 for name, v in lengths.items()}
        for i, by_field in enumerate(counts):
            weighted: dict[str, float] = {}
            for name, field in FIELDS.items():
                norm = 1 - field.b + field.b * lengths[name][i] / averages[name]
                for term, count in by_field[name].items():
                    weighted[term] = weighted.get(term, 0.0) + field.weight * count / norm
            for term, tf in weighted.items():
                self._postings.setdefault(term, []).append((i, tf))
        total = len(self.documents)
        self._idf = {
            term: math.log(1 + (total - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in self._postings.items()
        }
        self._by_prefix: dict[str, list[str]] = {}
        for term in self._postings:
            for cut in range(PREFIX_MIN, len(term)):
                if len(term) - cut <= PREFIX_EXTRA:
                    self._by_prefix.setdefault(term[:cut], []).append(term)

    def search(
        self, query: str, limit: int = 10, allowed: Callable[[str], bool] | None = None
    ) -> tuple[list[tuple[Document, float]], int]:
        """The best `limit` documents with their scores, and how many matched at all; only
        documents whose name `allowed` accepts count, when it is given.

        Each word of the query is one concept: a document scores for it by the best of its
        terms (the word itself, its spelled-out abbreviation, its synonyms, longer terms
        it begins), so saying the same thing twice in a description counts once.
        """
        scores: dict[int, float] = {}
        asked: dict[str, float] = {}
        for concept in query_concepts(query):
            for term, weight in list(concept.items()):
                for longer in self._by_prefix.get(term, ()):
                    concept.setdefault(longer, weight * PREFIX_WEIGHT)
            for term, weight in concept.items():
                asked[term] = max(weight, asked.get(term, 0.0))
            best: dict[int, float] = {}
            for term, weight in concept.items():
                idf = self._idf.get(term)
                if idf is None:
                    continue
                for i, tf in self._postings[term]:
                    score = weight * idf * tf * (K1 + 1) / (tf + K1)
                    if score > best.get(i, 0.0):
                        best[i] = score
            for i, score in best.items():
                scores[i] = scores.get(i, 0.0) + score
        for i in scores:
            for name, bonus in COVERAGE.items():
                covered = self._covered[i][name]
                if covered:
                    share = sum(asked.get(term, 0.0) for term in covered) / len(covered)
                    scores[i] += bonus * share
        if allowed is not None:
            scores = {i: score for i, score in scores.items() if allowed(self.documents[i].name)}
        ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
        return [(self.documents[i], score) for i, score in ranked[:limit]], len(ranked)


@lru_cache(maxsize=1)
def _synonym_groups() -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for line in SYNONYMS:
        members = line.split()
        stems = {stem(word) for word in members}
        for word in members:
            groups.setdefault(word, set()).update(stems)
    return groups


def query_concepts(query: str) -> list[dict[str, float]]:
    """The query's words, each as the terms that stand for it with their weights: the word
    and its spelled-out abbreviation 1, its synonyms less. Stop words are no concept, but
    still bring their synonyms ("my" asks for "authenticated")."""
    text = " ".join(words(query))
    for phrase, verb in PHRASES.items():
        text = re.sub(rf"\b{phrase}\b", verb, text)
    concepts: list[dict[str, float]] = []
    seen: set[str] = set()
    for word in text.split():
        spelled = ABBREVIATIONS.get(word)
        own = [word, *(spelled.split() if spelled else [])]
        concept = {stem(each): 1.0 for each in own if each not in STOP_WORDS}
        if word in SELF:
            concept.update({stem("authenticated"): SYNONYM_WEIGHT, "user": SYNONYM_WEIGHT})
        for each in own:
            for synonym in _synonym_groups().get(each, ()):
                concept.setdefault(synonym, SYNONYM_WEIGHT)
        key = " ".join(sorted(concept))
        if concept and key not in seen:
            seen.add(key)
            concepts.append(concept)
    return concepts


# --- Porter's stemmer (M. F. Porter, "An algorithm for suffix stripping", 1980) -----------

_VOWELS = frozenset("aeiou")


def _consonant(word: str, i: int) -> bool:
    char = word[i]
    if char in _VOWELS:
        return False
    if char == "y":
        return i == 0 or not _consonant(word, i - 1)
    return True


def _measure(stem_: str) -> int:
    """m in [C](VC)^m[V]."""
    forms = "".join("c" if _consonant(stem_, i) else "v" for i in range(len(stem_)))
    return len(re.findall("vc+", re.sub("c+", "c", re.sub("v+", "v", forms))))


def _has_vowel(stem_: str) -> bool:
    return any(not _consonant(stem_, i) for i in range(len(stem_)))


def _double_consonant(word: str) -> bool:
    return len(word) > 1 and word[-1] == word[-2] and _consonant(word, len(word) - 1)


def _cvc(word: str) -> bool:
    if len(word) < 3:
        return False
    last = len(word) - 1
    return (
        _consonant(word, last)
        and not _consonant(word, last - 1)
        and _consonant(word, last - 2)
        and word[-1] not in "wxy"
    )


def _replace(word: str, rules: Sequence[tuple[str, str]], minimum: int) -> str:
    for suffix, replacement in rules:
        if word.endswith(suffix):
            base = word[: len(word) - len(suffix)]
            return base + replacement if _measure(base) > minimum else word
    return word


_STEP2 = (
    ("ational", "ate"),
    ("tional", "tion"),
    ("enci", "ence"),
    ("anci", "ance"),
    ("izer", "ize"),
    ("abli", "able"),
    ("alli", "al"),
    ("entli", "ent"),
    ("eli", "e"),
    ("ousli", "ous"),
    ("ization", "ize"),
    ("ation", "ate"),
    ("ator", "ate"),
    ("alism", "al"),
    ("iveness", "ive"),
    ("fulness", "ful"),
    ("ousness", "ous"),
    ("aliti", "al"),
    ("iviti", "ive"),
    ("biliti", "ble"),
)
_STEP3 = (
    ("icate", "ic"),
    ("ative", ""),
    ("alize", "al"),
    ("iciti", "ic"),
    ("ical", "ic"),
    ("ful", ""),
    ("ness", ""),
)
_STEP4 = sorted(
    _word_set("al ance ence er ic able ible ant ement ment ent ion ou ism ate iti ous ive ize"),
    key=len,
    reverse=True,
)


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """The Porter stem of a lower-case word (words of two letters or fewer are kept)."""
    if len(word) <= 2 or not word.isalpha():
        return word
    # Step 1a: plurals.
    if word.endswith("sses") or word.endswith("ies"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    # Step 1b: -eed, -ed, -ing.
    if word.endswith("eed"):
        if _measure(word[:-3]) > 0:
            word = word[:-1]
    else:
        for suffix in ("ed", "ing"):
            base = word[: -len(suffix)]
            if word.endswith(suffix) and _has_vowel(base):
                word = base
                if word.endswith(("at", "bl", "iz")):
                    word += "e"
                elif _double_consonant(word) and word[-1] not in "lsz":
                    word = word[:-1]
                elif _measure(word) == 1 and _cvc(word):
                    word += "e"
                break
    # Step 1c: y → i after a vowel in the stem.
    if word.endswith("y") and _has_vowel(word[:-1]):
        word = word[:-1] + "i"
    word = _replace(word, _STEP2, 0)
    word = _replace(word, _STEP3, 0)
    # Step 4: drop suffixes when the stem is long enough (m > 1).
    for suffix in _STEP4:
        if word.endswith(suffix):
            base = word[: -len(suffix)]
            if _measure(base) > 1 and (suffix != "ion" or base.endswith(("s", "t"))):
                word = base
            break
    # Step 5: a final -e, and -ll.
    if word.endswith("e"):
        base = word[:-1]
        if _measure(base) > 1 or (_measure(base) == 1 and not _cvc(base)):
            word = base
    if word.endswith("ll") and _measure(word) > 1:
        word = word[:-1]
    return word
