"""Ranked search over an API's operations: what compact exposure's `search_operations` uses.

BM25F (Robertson and Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond",
2009): each field of an operation is a stream of terms with its own weight and length
normalisation, and the weighted term frequencies are summed before BM25's saturation.
Fields, from strongest to weakest: the tool's name, its title (the summary), the first
sentence of its description, its tags, its path, the verbs of its HTTP method, the rest of
its description, its arguments (their names and the values they enumerate: "close an issue"
is an update whose `state` may be `closed`), the property names of what it returns, and its
arguments' descriptions. All of it comes from the tool as tools/list shows it. Terms are:

- words split out of identifiers (`pulls_merge`, `getCustomerById`, `/repos/{owner}`);
- lower-cased, English stop words dropped, and reduced to their stem (Porter's algorithm),
  so "merging", "merged" and "merge" are one term;
- with the usual abbreviations spelled out beside them ("repo", "PR", "org").

A query is read as one concept per word: the word, and at lower weights the longer terms it
begins ("assign" finds "assignee"), the word an adverb is made from ("monthly": "month"),
and the words of a small general vocabulary of APIs and business that ask for the same
thing ("money" looks for "balance" and "funds" too, "my" for "authenticated", "belongs" for
"member"). A document scores for a concept by the best of its terms, with one idf for the
concept, that of its most frequent term (as Lucene's SynonymQuery does), so a rare synonym
does not outweigh the word asked for.

The query's verb (its first word, after "please", "I want to", "how do I"; in a query of
several clauses, the verb that begins the last clause beginning with one: "a customer wants
to leave at the end of the month, set that up") tells its intent: "show ...", "who ...",
"how many ...", a plural noun or a bare noun phrase read; "add ...", "remove ...",
"rename ..." create, delete, update; "merge a ...", "refund a ..." (any verb before "a",
"the"...) change something. A verb split around its object stands for the one it means
("take Bob off the list": remove, "set it up": create, "turn it off": disable). The verb
brings in its API verbs ("remove": "delete"), and the intent is matched against each
operation's HTTP method and the shape of its path: a write
ranks lower for a question, a read lower for an order, reading one thing lower when the
query asks for several (a plural, "list", "all"), creating on an item lower than on a
collection. Of two operations that match, the one whose name and title say no more than the
query asks ranks higher ("delete a repository": `repos_delete` before
`repos_delete_webhook`); remaining ties go to the shorter name, then to the operations'
order.

The standard library only; the index of GitHub's 1,223 operations builds in under half a
second, on the first search.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "Document",
    "SearchIndex",
    "argument_descriptions",
    "argument_words",
    "query_concepts",
    "query_intent",
    "returned_words",
    "stem",
    "terms",
]

K1 = 1.2  # BM25's saturation of the weighted term frequencies
SYNONYM_WEIGHT = 0.4  # a word of the same vocabulary group as the one asked
VERB_WEIGHT = 0.8  # the API's verb for the query's ("delete" for "remove")
PREFIX_WEIGHT = 0.5  # a longer term the word begins, or the adjective of an adverb
PREFIX_MIN, PREFIX_EXTRA = 4, 3  # a term of 4+ letters finds terms up to 3 letters longer
# Added for the share of a name's (a title's) terms the query asks for: of two tools that
# both match, the one whose name says no more than the query wins.
COVERAGE = {"name": 1.5, "title": 1.0}
PHRASES_WEIGHT = 1.5  # the mapping's phrases for an operation: as strong as the lead sentence
PHRASE_COVERAGE = 1.0  # added for the share of its best phrase's terms the query asks for


@dataclass(frozen=True)
class Field:
    weight: float
    b: float  # length normalisation: 0 none, 1 full


FIELDS = {
    "name": Field(3.0, 0.5),
    "title": Field(2.5, 0.5),
    "lead": Field(1.5, 0.5),  # the description's first sentence
    "tags": Field(1.5, 0.3),
    "path": Field(1.5, 0.5),
    "verb": Field(1.0, 0.0),
    "description": Field(0.75, 0.75),  # the rest of it
    "arguments": Field(0.5, 0.5),
    "returns": Field(0.4, 0.5),
    "parameters": Field(0.3, 0.75),  # the arguments' descriptions
    "phrases": Field(PHRASES_WEIGHT, 0.5),  # how users ask for it (the mapping's `search`)
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
    from further had has have having he her here hers him his how i if in into is it its
    itself just let many me more most much my myself no nor not now of off on once only or
    other our ours out over own please same she should so some such than that the their
    theirs them then there these they this those through to too under until up us very via
    was we were what when where which while who whom why will with would you your yours"""
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

# The query's verb brings in the words of its groups: the group's first word (the one APIs
# use) at VERB_WEIGHT, the others at SYNONYM_WEIGHT; and tells the query's intent. Words,
# not stems: they are stemmed like everything else.
VERB_GROUPS = (
    (
        "create",
        "create add new make open start publish register post insert submit store save give grant",
    ),
    ("delete", "delete remove destroy erase drop discard"),
    ("update", "update edit change modify rename patch alter set put"),
    ("read", "list show all browse enumerate recent"),
    ("read", "get fetch read retrieve show view see describe look"),
    ("read", "search find lookup query"),
    ("change", "cancel stop abort halt terminate"),
    ("change", "send email mail deliver notify"),
)
# Words that ask for the same thing of an API, wherever they are in the query: each brings
# the others of its groups in at SYNONYM_WEIGHT.
SYNONYMS = (
    "user person people someone somebody member who",
    "authenticated me my myself mine",
    "money funds balance cash",
    "pay payment",
    "member membership belong join",
    "access permission",
    "left remaining",
    "call request",
    "latest newest recent last",
    "happen event activity",
    "history log",
    "username login handle",
    "limit quota",
    "plan subscription",
)
# Verbs split around their object ("take Bob off the list"): the verb they stand for.
SPLIT_VERBS = tuple(
    (re.compile(rf"\b(?:{verbs}) ((?:\w+ ){{0,3}}?){particle}\b"), meaning)
    for verbs, particle, meaning in (
        ("take|kick|throw", "(?:off|out)", "remove"),
        ("set", "up", "create"),
        ("turn|switch|shut", "off", "disable"),
        ("turn|switch", "on", "enable"),
    )
)
_CLAUSE_END = re.compile(r"[;:!?]|[,.](?=\s|$)|\s[-\u2013\u2014]\s")
# Verbs that change something without being a plain create, update or delete.
CHANGE = _word_set(
    """accept allow apply approve archive assign attach block capture charge close confirm
    decline deny detach disable dismiss enable finalize follow fork freeze grant invite lock
    mark merge move pause pay pin refund reject release reopen reset restore resume retry
    revoke rotate run rerun send share star suspend sync transfer trigger unassign unblock
    unfollow unlock unpin unstar upload verify void"""
)
# Words before the verb that do not change what the query asks.
_FILLERS = _word_set(
    "please i we want wanna need to would like let lets can could you help should just"
)
_AMOUNTS = _word_set("many much often long")  # "how many ...": a question
_QUESTIONS = _word_set(
    """who whom whose what which when where why is are was were does did do has have had
    any how"""
)
# After a word that is no listed verb, these mark it as one ("kick a user", "turn off ...").
_OBJECTS = _word_set(
    """a an the my this that these those our your some every one his her their its all
    up out off down back over on in away someone somebody everyone everybody me us him them
    it"""
)
_MANY = _word_set("list all every recent who which")  # a query for several things

# How well an operation's HTTP method fits a query's intent (1: as asked).
INTENT_FIT: dict[str, dict[str, float]] = {
    "read": {"GET": 1.0, "HEAD": 1.0, "": 0.7},
    "create": {"POST": 1.0, "PUT": 0.9, "PATCH": 0.8, "GET": 0.7, "": 0.6},
    "update": {"PATCH": 1.0, "PUT": 1.0, "POST": 0.95, "GET": 0.7, "": 0.7},
    "delete": {"DELETE": 1.0, "POST": 0.85, "GET": 0.6, "": 0.8},
    "change": {"GET": 0.7, "HEAD": 0.7, "": 1.0},
}
# For reading one thing from a collection (or several from one), or creating on an item.
SHAPE_FIT = 0.9
# The verbs an operation's name uses for what a query's intent asks: they count as asked.
INTENT_VERBS = {"read": ("get", "list"), "create": ("create",), "update": ("update",)}


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


# Markup that is not prose: links' targets, bare URLs, HTML tags.
_MARKUP = re.compile(r"\]\([^)]*\)|https?://\S+|<[^>]*>")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


@lru_cache(maxsize=4096)
def _line_terms(text: str) -> tuple[str, ...]:
    """The terms of one argument's description, markup left out (APIs repeat the same ones:
    each is read once)."""
    return tuple(terms(_MARKUP.sub(" ", text)))


def _lead(title: str, description: str) -> tuple[str, str]:
    """The description's first sentence (after the title, when it begins with it), and the
    rest, markup left out."""
    text = _MARKUP.sub(" ", description).strip()
    if title and text.lower().startswith(title.lower()):
        text = text[len(title) :].lstrip(" .\n")
    parts = _SENTENCE.split(text, maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def _plural(word: str) -> bool:
    word = word.lower()
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is"))


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
    returns: str = ""  # the property names of what it returns, space separated
    parameters: str = ""  # the arguments' descriptions, one a line
    phrases: tuple[str, ...] = ()  # how users ask for it, in their words (the mapping's `search`)

    @classmethod
    def of(
        cls,
        tool: Mapping[str, Any],
        method: str,
        path: str,
        tags: tuple[str, ...] = (),
        phrases: tuple[str, ...] = (),
    ) -> Document:
        """The document of a tool as tools/list shows it (its JSON)."""
        schema = tool.get("inputSchema")
        return cls(
            name=str(tool.get("name") or ""),
            title=str(tool.get("title") or ""),
            description=str(tool.get("description") or ""),
            path=path,
            method=method,
            tags=tags,
            arguments=argument_words(schema),
            returns=returned_words(tool.get("outputSchema")),
            parameters=argument_descriptions(schema),
            phrases=phrases,
        )

    def shape(self) -> tuple[str, bool]:
        """Its HTTP method, and whether it acts on a collection: a path that does not end
        in a parameter, and for reading, one that ends in a plural ("/pulls", not "/readme"
        or "/{id}") or a name that says "list"."""
        segments = [s for s in self.path.split("/") if s]
        last = segments[-1] if segments else ""
        collection = not last.startswith("{")
        method = self.method.upper()
        if method in ("GET", "HEAD"):
            collection = (collection and _plural(last)) or "list" in words(self.name)
        return method, collection

    def fields(self) -> dict[str, list[str]]:
        """Its terms by field, but for the phrases: the index reads them phrase by phrase."""
        lead, rest = _lead(self.title, self.description)
        return {
            "name": terms(self.name),
            "title": terms(self.title),
            "lead": terms(lead),
            "tags": terms(" ".join(self.tags)),
            "path": terms(self.path),
            "verb": terms(METHOD_VERBS.get(self.method.upper(), "")),
            "description": terms(rest),
            "arguments": terms(self.arguments),
            "returns": terms(self.returns),
            "parameters": [t for line in self.parameters.splitlines() for t in _line_terms(line)],
        }


def _properties(schema: Any) -> dict[str, Any]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return properties if isinstance(properties, dict) else {}


def argument_words(schema: Any) -> str:
    """The names of an input schema's properties and the string values they enumerate."""
    found: list[str] = []
    for name, spec in _properties(schema).items():
        found.append(str(name))
        values = spec.get("enum") if isinstance(spec, dict) else None
        if isinstance(values, list):
            found += [v for v in values if isinstance(v, str)]
    return " ".join(found)


def argument_descriptions(schema: Any) -> str:
    """The descriptions of an input schema's properties, one a line."""
    found = []
    for spec in _properties(schema).values():
        text = spec.get("description") if isinstance(spec, dict) else None
        if isinstance(text, str):
            found.append(" ".join(text.split()))
    return "\n".join(found)


RETURNS_DEPTH = 2  # levels of nested objects whose property names say what is returned


def returned_words(schema: Any) -> str:
    """The property names of an output schema, `RETURNS_DEPTH` levels of objects deep (array
    items, combinators and its own `$defs` references followed), each once."""
    defs = schema.get("$defs") if isinstance(schema, dict) else None
    defs = defs if isinstance(defs, dict) else {}
    found: dict[str, None] = {}

    def walk(node: Any, depth: int, seen: frozenset[str]) -> None:
        if not isinstance(node, dict) or depth <= 0:
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name not in seen:
                walk(defs.get(name), depth, seen | {name})
        for key in ("items", "additionalProperties"):
            walk(node.get(key), depth, seen)
        for key in ("anyOf", "oneOf", "allOf"):
            branches = node.get(key)
            for branch in branches if isinstance(branches, list) else ():
                walk(branch, depth, seen)
        for name, spec in _properties(node).items():
            found[str(name)] = None
            walk(spec, depth - 1, seen)

    walk(schema, RETURNS_DEPTH, frozenset())
    return " ".join(found)


class SearchIndex:
    """Documents ranked for a query, best first."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.documents = tuple(documents)
        self._postings: dict[str, list[tuple[int, float]]] = {}
        lengths = {name: [0] * len(self.documents) for name in FIELDS}
        every = []
        self._covered: list[dict[str, frozenset[str]]] = []
        self._shapes: list[tuple[str, bool]] = []
        # each phrase term → (document, phrase, the phrase's number of terms)
        self._phrase_postings: dict[str, list[tuple[int, int, int]]] = {}
        for i, document in enumerate(self.documents):
            phrases = [terms(phrase) for phrase in document.phrases]
            fields = {**document.fields(), "phrases": [t for each in phrases for t in each]}
            for k, phrase in enumerate(frozenset(found) for found in phrases):
                for term in phrase:
                    self._phrase_postings.setdefault(term, []).append((i, k, len(phrase)))
            every.append(fields)
            self._covered.append({name: frozenset(fields[name]) for name in COVERAGE})
            self._shapes.append(document.shape())
            for name, found in fields.items():
                lengths[name][i] = len(found)
        averages = {name: (sum(v) / len(v) if v else 0.0) or 1.0 for name, v in lengths.items()}
        for i, fields in enumerate(every):
            weighted: dict[str, float] = {}
            for name, field in FIELDS.items():
                norm = 1 - field.b + field.b * lengths[name][i] / averages[name]
                each = field.weight / norm
                for term in fields[name]:
                    weighted[term] = weighted.get(term, 0.0) + each
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
        documents whose name `allowed` accepts count, when it is given."""
        found, verb = _verb_of(query)  # the query is read once
        scores = self._scores(_concepts(found, verb), _intent(found, verb), _asks_many(found))
        if allowed is not None:
            scores = {i: score for i, score in scores.items() if allowed(self.documents[i].name)}
        ranked = sorted(
            scores.items(),
            key=lambda pair: (-round(pair[1], 9), len(self.documents[pair[0]].name), pair[0]),
        )
        return [(self.documents[i], score) for i, score in ranked[:limit]], len(ranked)

    def _related(self, term: str) -> list[str]:
        """Index terms that `term` begins (up to PREFIX_EXTRA letters longer), and the
        adjective an adverb's "-ly" is made from ("monthly": "month")."""
        found = list(self._by_prefix.get(term, ()))
        if term.endswith("li") and term[:-2] in self._postings:
            found.append(term[:-2])
        return found

    def _phrase_shares(self, asked: Mapping[str, float]) -> dict[int, float]:
        """For each document with a phrase the query asks for, the share of its best phrase's
        terms asked (weighted as asked), read from the phrases' postings: only the phrases
        that share a term with the query are looked at."""
        sums: dict[tuple[int, int], float] = {}
        sizes: dict[tuple[int, int], int] = {}
        for term, weight in asked.items():
            for i, k, size in self._phrase_postings.get(term, ()):
                sums[i, k] = sums.get((i, k), 0.0) + weight
                sizes[i, k] = size
        best: dict[int, float] = {}
        for (i, k), total in sums.items():
            share = total / sizes[i, k]
            if share > best.get(i, 0.0):
                best[i] = share
        return best

    def _scores(
        self, concepts: Sequence[Mapping[str, float]], intent: str | None, many: bool
    ) -> dict[int, float]:
        """Each matching document's score: per concept, the best of its terms (so saying the
        same thing twice counts once), plus the coverage bonuses, times the intent's fit."""
        scores: dict[int, float] = {}
        asked: dict[str, float] = {}
        for own in concepts:
            concept = dict(own)
            for term, weight in own.items():
                for related in self._related(term):
                    concept.setdefault(related, weight * PREFIX_WEIGHT)
            for term, weight in concept.items():
                asked[term] = max(weight, asked.get(term, 0.0))
            found = [term for term in concept if term in self._postings]
            if not found:
                continue
            idf = min(self._idf[term] for term in [t for t in found if t in own] or found)
            best: dict[int, float] = {}
            for term in found:
                weight = concept[term]
                for i, tf in self._postings[term]:
                    score = weight * idf * tf * (K1 + 1) / (tf + K1)
                    if score > best.get(i, 0.0):
                        best[i] = score
            for i, score in best.items():
                scores[i] = scores.get(i, 0.0) + score
        for verb in INTENT_VERBS.get(intent or "", ()):
            asked.setdefault(stem(verb), SYNONYM_WEIGHT)
        for i in scores:
            for name, bonus in COVERAGE.items():
                covered = self._covered[i][name]
                if covered:
                    share = sum(asked.get(term, 0.0) for term in covered) / len(covered)
                    scores[i] += bonus * share
        for i, share in self._phrase_shares(asked).items():
            if i in scores:
                scores[i] += PHRASE_COVERAGE * share
        if intent is not None:
            fit = INTENT_FIT[intent]
            for i in scores:
                method, collection = self._shapes[i]
                scores[i] *= fit.get(method, fit[""])
                if (intent == "read" and collection != many) or (
                    intent == "create" and method == "POST" and not collection
                ):
                    scores[i] *= SHAPE_FIT
        return scores


Groups = dict[str, list[tuple[str, frozenset[str]]]]


def _groups(lines: Iterable[str]) -> Groups:
    """Each word's stem → the groups it is in: each group's first word's stem, and all its
    stems."""
    found: Groups = {}
    for line in lines:
        members = line.split()
        stems = frozenset(stem(word) for word in members)
        for each in stems:
            found.setdefault(each, []).append((stem(members[0]), stems))
    return found


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[Groups, Groups, dict[str, str], frozenset[str]]:
    """The verb groups and the synonyms by stem, each verb's intent, and the stems of the
    other verbs that change something."""
    intents: dict[str, str] = {}
    for intent, line in VERB_GROUPS:
        for word in line.split():
            intents.setdefault(stem(word), intent)
    changes = frozenset(stem(word) for word in CHANGE)
    return _groups(line for _, line in VERB_GROUPS), _groups(SYNONYMS), intents, changes


def _query_words(query: str) -> list[str]:
    text = " ".join(words(query))
    for phrase, verb in PHRASES.items():
        text = re.sub(rf"\b{phrase}\b", verb, text)
    for pattern, verb in SPLIT_VERBS:
        text = pattern.sub(rf"{verb} \1", text)
    return text.split()


def _clauses(query: str) -> list[list[str]]:
    """The query's words, clause by clause (split at punctuation that ends one)."""
    found = [_query_words(part) for part in _CLAUSE_END.split(query)]
    return [each for each in found if each] or [[]]


def _verb_of(query: str) -> tuple[list[str], int]:
    """The query's words and where its verb is: in the last clause that begins with a verb
    or a question ("a customer wants to leave at the end of the month, set that up"), else
    where `_verb_at` finds it in the whole query."""
    found: list[str] = []
    chosen = None
    for clause in _clauses(query):
        at = _verb_at(clause)
        if at < len(clause) and _is_verb(clause[at]):
            chosen = len(found) + at
        found += clause
    return found, _verb_at(found) if chosen is None else chosen


def _is_verb(word: str) -> bool:
    _, _, intents, changes = _vocabulary()
    return word in _QUESTIONS or word in _AMOUNTS or stem(word) in intents or stem(word) in changes


def _verb_at(found: Sequence[str]) -> int:
    """Where the query's verb is: its first word after fillers ("please", "I want to") and a
    "how do I" (not "how many"); the length of the query when there is none."""
    at = 0
    while at < len(found) and found[at] in _FILLERS:
        at += 1
    if at < len(found) - 1 and found[at] == "how" and found[at + 1] not in _AMOUNTS:
        at += 1
        while at < len(found) and (found[at] in _QUESTIONS or found[at] in _FILLERS):
            at += 1
    return at


def query_concepts(query: str) -> list[dict[str, float]]:
    """The query's words, each as the terms that stand for it with their weights: the word
    and its spelled-out abbreviation 1, its synonyms less (the verb's, only for the verb).
    Stop words are no concept, but still bring their synonyms ("my" asks for
    "authenticated")."""
    return _concepts(*_verb_of(query))


def _concepts(found: Sequence[str], verb: int) -> list[dict[str, float]]:
    verbs, synonyms, _, _ = _vocabulary()
    concepts: list[dict[str, float]] = []
    seen: set[str] = set()
    for at, word in enumerate(found):
        spelled = ABBREVIATIONS.get(word)
        own = [word, *(spelled.split() if spelled else [])]
        concept = {stem(each): 1.0 for each in own if each not in STOP_WORDS}
        if word in SELF:
            concept.update({stem("authenticated"): SYNONYM_WEIGHT, "user": SYNONYM_WEIGHT})
        for each in map(stem, own):
            for head, members in verbs.get(each, []) if at == verb else []:
                for synonym in members:
                    concept.setdefault(synonym, SYNONYM_WEIGHT)
                concept[head] = max(concept.get(head, 0.0), VERB_WEIGHT)
            for _, members in synonyms.get(each, []):
                for synonym in members:
                    concept.setdefault(synonym, SYNONYM_WEIGHT)
        key = " ".join(sorted(f"{term}:{weight}" for term, weight in concept.items()))
        if concept and key not in seen:
            seen.add(key)
            concepts.append(concept)
    return concepts


def query_intent(query: str) -> str | None:
    """What the query asks to do, from its verb: "read", "create", "update", "delete",
    "change" (another write), or None for a query of fillers only."""
    return _intent(*_verb_of(query))


def _intent(found: Sequence[str], at: int) -> str | None:
    _, _, intents, changes = _vocabulary()
    if at >= len(found):
        return None
    verb = found[at]
    if verb in _QUESTIONS or verb in _AMOUNTS:
        return "read"
    if stem(verb) in intents:
        return intents[stem(verb)]
    if stem(verb) in changes:
        return "change"
    if verb not in STOP_WORDS and _plural(verb):
        return "read"  # a plural noun first: "payouts that failed this month"
    if at + 1 < len(found) and found[at + 1] in _OBJECTS:
        return "change"  # a verb not listed: "kick a member out"
    return "read"  # a noun phrase: "open issues of a repository"


def _asks_many(found: Sequence[str]) -> bool:
    """Whether the query's words ask for several things: "list", "all"..., or a plural."""
    return any(w in _MANY or (w not in STOP_WORDS and _plural(w)) for w in found)


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
