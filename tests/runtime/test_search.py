"""Ranked operation search (mcpgen.runtime.search), as compact exposure uses it."""

from __future__ import annotations

import pytest

from mcpgen.runtime.search import Document, SearchIndex, argument_words, query_concepts, stem, words

# Porter's own examples ("An algorithm for suffix stripping", 1980), step by step.
PORTER = {
    "caresses": "caress",
    "ponies": "poni",
    "cats": "cat",
    "agreed": "agre",
    "plastered": "plaster",
    "motoring": "motor",
    "conflated": "conflat",
    "hopping": "hop",
    "falling": "fall",
    "filing": "file",
    "happy": "happi",
    "relational": "relat",
    "conditional": "condit",
    "digitizer": "digit",
    "vietnamization": "vietnam",
    "decisiveness": "decis",
    "formaliti": "formal",
    "triplicate": "triplic",
    "electrical": "electr",
    "revival": "reviv",
    "adjustment": "adjust",
    "adoption": "adopt",
    "effective": "effect",
    "probate": "probat",
    "controll": "control",
}


@pytest.mark.parametrize(("word", "expected"), sorted(PORTER.items()))
def test_stems_are_porters(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_identifiers_are_split_into_words() -> None:
    assert words("getCustomerById pulls_merge /repos/{owner}/HTTPServer") == [
        "get", "customer", "by", "id", "pulls", "merge", "repos", "owner", "http", "server"
    ]  # fmt: skip


def test_queries_bring_abbreviations_synonyms_and_phrasal_verbs() -> None:
    concepts = query_concepts("set up a webhook for my repo")
    create = "create add new make open start publish register post insert submit store save"
    assert concepts[0] == {stem(w): 1.0 if w == "create" else 0.4 for w in create.split(" ")}
    assert {"webhook": 1.0} in concepts
    mine = next(c for c in concepts if "authent" in c)
    assert mine["authent"] == 0.4 and mine["user"] == 0.4
    assert next(c for c in concepts if "repo" in c) == {"repo": 1.0, "repositori": 1.0}


REPO = "/repos/{owner}/{repo}"
OPERATIONS = [
    Document("pulls_list", "List pull requests", "Lists pull requests.", f"{REPO}/pulls", "GET"),
    Document(
        "pulls_merge",
        "Merge a pull request",
        "Merges a pull request into the base branch.",
        f"{REPO}/pulls/{{number}}/merge",
        "PUT",
    ),
    Document(
        "pulls_check_if_merged",
        "Check if a pull request has been merged",
        "Checks if a pull request has been merged into the base branch.",
        f"{REPO}/pulls/{{number}}/merge",
        "GET",
    ),
    Document("repos_delete", "Delete a repository", "Requires admin access.", REPO, "DELETE"),
    Document(
        "repos_delete_webhook",
        "Delete a repository webhook",
        "Deletes a webhook of a repository.",
        f"{REPO}/hooks/{{hook_id}}",
        "DELETE",
    ),
    Document(
        "issues_update",
        "Update an issue",
        "Issue owners can edit an issue.",
        f"{REPO}/issues/{{number}}",
        "PATCH",
        ("issues",),
        "title body state open closed",
    ),
    Document("issues_create", "Create an issue", "Opens an issue.", f"{REPO}/issues", "POST"),
    Document(
        "users_get_authenticated",
        "Get the authenticated user",
        "The profile of the user the token belongs to.",
        "/user",
        "GET",
        ("users",),
    ),
]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("merge a pull request", "pulls_merge"),
        ("check whether a PR was merged", "pulls_check_if_merged"),
        ("remove a repo", "repos_delete"),
        ("close an issue", "issues_update"),
        ("open a new issue", "issues_create"),
        ("who am I logged in as", "users_get_authenticated"),
        ("show open pull requests", "pulls_list"),
    ],
)
def test_the_operation_that_does_the_task_comes_first(query: str, first: str) -> None:
    ranked, total = SearchIndex(OPERATIONS).search(query, 3)
    assert ranked[0][0].name == first
    assert total >= len(ranked)


def test_no_match_is_an_empty_answer_and_ties_keep_the_given_order() -> None:
    index = SearchIndex(OPERATIONS)
    assert index.search("kubernetes pods", 5) == ([], 0)
    twins = SearchIndex([Document("thing_two"), Document("thing_one")])
    assert [d.name for d, _ in twins.search("thing", 5)[0]] == ["thing_two", "thing_one"]


def test_argument_words_are_property_names_and_enumerated_strings() -> None:
    schema = {
        "type": "object",
        "properties": {"state": {"enum": ["open", "closed", 3]}, "title": {"type": "string"}},
    }
    assert argument_words(schema) == "state open closed title"
    assert argument_words({"type": "string"}) == ""
