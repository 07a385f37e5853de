"""Ranked operation search (mcpgen.runtime.search), as compact exposure uses it."""

from __future__ import annotations

import pytest

from mcpgen.runtime.search import (
    Document,
    SearchIndex,
    argument_descriptions,
    argument_words,
    query_concepts,
    query_intent,
    returned_words,
    stem,
    words,
)

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
    verb = concepts[0]  # "set up": create, and the other verbs that create at a lower weight
    assert verb["creat"] == 1.0 and verb["add"] == verb["regist"] == 0.4
    assert {"webhook": 1.0} in concepts
    mine = next(c for c in concepts if "authent" in c)
    assert mine["authent"] == 0.4 and mine["user"] == 0.4
    assert next(c for c in concepts if "repo" in c) == {"repo": 1.0, "repositori": 1.0}


def test_only_the_verb_brings_the_verbs_that_mean_the_same() -> None:
    """ "open a PR" creates; "show the open PRs" does not ask to create anything."""
    opening = query_concepts("open a pull request")[0]
    assert opening["open"] == 1.0 and opening["creat"] == 0.8 and opening["add"] == 0.4
    assert {"open": 1.0} in query_concepts("show the open pull requests")
    removing = query_concepts("please remove a label")[0]
    assert removing["remov"] == 1.0 and removing["delet"] == 0.8


def test_synonyms_are_found_for_any_form_of_a_word() -> None:
    """Words are looked up by their stem: "calls" as "call", "happened" as "happen"."""
    calls, left = query_concepts("API calls left")[1:]
    assert calls == {"call": 1.0, "request": 0.4} and left == {"left": 1.0, "remain": 0.4}
    happened = query_concepts("what happened")[0]
    assert happened["event"] == 0.4 and happened["activ"] == 0.4


@pytest.mark.parametrize(
    ("query", "intent"),
    [
        ("show the open pull requests", "read"),
        ("who starred a repo", "read"),
        ("how many API calls do I have left", "read"),
        ("commit history of a branch", "read"),  # a noun phrase
        ("Is this pull request merged?", "read"),
        ("make a new repository", "create"),
        ("please set up a webhook", "create"),
        ("how do I open an issue", "create"),
        ("I want to remove a label", "delete"),
        ("rename a branch", "update"),
        ("merge a pull request", "change"),
        ("stop a running workflow", "change"),
        ("refunding a charge", "change"),
        ("block a member from the team", "change"),
        ("flag a member of the team", "change"),  # an unlisted verb, then "a"
        ("kick a member out of the team", "delete"),  # a verb split around its object
        ("take Bob off the reviewers", "delete"),
        ("set our billing address up", "create"),
        ("turn off a workflow", "change"),
        ("switch the old webhook off", "change"),
        ("payouts that failed this month", "read"),  # a plural noun first
        ("a customer wants to leave at the end of the month, set that up", "create"),
        ("the build is stuck; stop it", "change"),  # the last clause's verb
        ("the deploy broke again - which checks failed?", "read"),
        ("prices over $5,000", "read"),  # a comma inside a number ends no clause
        ("please", None),
    ],
)
def test_the_intent_comes_from_the_verb(query: str, intent: str | None) -> None:
    assert query_intent(query) == intent


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


def test_no_match_is_an_empty_answer_and_ties_go_to_the_shorter_name_then_the_order() -> None:
    index = SearchIndex(OPERATIONS)
    assert index.search("kubernetes pods", 5) == ([], 0)
    tied = SearchIndex([Document("thing_two"), Document("thing_one"), Document("thing_x")])
    ranked = tied.search("thing", 5)[0]
    assert [d.name for d, _ in ranked] == ["thing_x", "thing_two", "thing_one"]
    assert ranked[0][1] == ranked[1][1] == ranked[2][1]


def test_a_rare_synonym_does_not_outweigh_a_common_one() -> None:
    """One idf per concept (its most frequent term's): "money" finds "balance", common in
    this API, as much as "cash", which one operation says."""
    common = [Document(f"op_{i}", f"Balance report {i}") for i in range(8)]
    index = SearchIndex([Document("get_balance", "Get balance"), Document("get_cash", "Get cash")])
    wide = SearchIndex([*common, *index.documents])
    for each in (index, wide):
        scores = {d.name: score for d, score in each.search("money", 20)[0]}
        assert scores["get_balance"] == scores["get_cash"]


def test_a_question_prefers_reads_and_an_order_prefers_writes() -> None:
    """The same words, two methods: the query's intent decides."""
    index = SearchIndex(
        [
            Document("stars_get", "Star a repository", "", "/repos/{repo}/star", "GET"),
            Document("stars_put", "Star a repository", "", "/repos/{repo}/star", "PUT"),
        ]
    )
    assert index.search("who starred a repo", 2)[0][0][0].name == "stars_get"
    assert index.search("star a repo", 2)[0][0][0].name == "stars_put"


def test_reading_many_prefers_collections_and_creating_prefers_a_collection() -> None:
    customers = [
        Document("get_customers_customer", "", "Customer.", "/v1/customers/{customer}", "GET"),
        Document("get_customers", "", "Customers.", "/v1/customers", "GET"),
        Document("post_customers_customer", "", "Customer.", "/v1/customers/{customer}", "POST"),
        Document("post_customers", "", "Customer.", "/v1/customers", "POST"),
    ]
    index = SearchIndex(customers)
    assert index.search("all customers", 1)[0][0][0].name == "get_customers"
    assert index.search("look at a customer", 1)[0][0][0].name == "get_customers_customer"
    assert index.search("create a customer", 1)[0][0][0].name == "post_customers"


def test_the_first_sentence_counts_more_than_the_rest_and_markup_not_at_all() -> None:
    index = SearchIndex(
        [
            Document("alpha", "", "Lists all invoices. Refunds are not shown."),
            Document("omega", "", "Refunds all charges. Invoices are not shown."),
        ]
    )
    assert [d.name for d, _ in index.search("refunds", 5)[0]] == ["omega", "alpha"]
    linked = Document("guide", "", "See [the guide](https://example.com/billing/export) <b>x</b>.")
    assert SearchIndex([linked]).search("billing export", 5) == ([], 0)


def test_an_adverb_finds_its_adjective_and_a_stem_the_longer_terms_it_begins() -> None:
    index = SearchIndex([Document("month_report", "Report of a month"), Document("assignees")])
    assert index.search("monthly", 5)[0][0][0].name == "month_report"
    assert index.search("assign", 5)[0][0][0].name == "assignees"


def test_argument_words_are_property_names_and_enumerated_strings() -> None:
    schema = {
        "type": "object",
        "properties": {"state": {"enum": ["open", "closed", 3]}, "title": {"type": "string"}},
    }
    assert argument_words(schema) == "state open closed title"
    assert argument_words({"type": "string"}) == ""


def test_a_tool_is_read_with_its_arguments_descriptions_and_what_it_returns() -> None:
    amount = {"type": "object", "properties": {"amount": {}, "currency": {}}}
    tool = {
        "name": "get_balance",
        "title": "Get balance",
        "description": "The balance.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "expand": {"type": "array", "description": "Fields\n to expand."},
                "live": {"type": "boolean"},
            },
        },
        "outputSchema": {
            "type": "object",
            "properties": {
                "available": {"type": "array", "items": {"$ref": "#/$defs/amount"}},
                "nested": {"type": "object", "properties": {"deep": {"properties": {"x": {}}}}},
                "loop": {"$ref": "#/$defs/loop"},
            },
            "$defs": {"amount": amount, "loop": {"anyOf": [{"$ref": "#/$defs/loop"}]}},
        },
    }
    document = Document.of(tool, "GET", "/v1/balance", ("balance",))
    assert (document.name, document.title, document.method, document.tags) == (
        "get_balance",
        "Get balance",
        "GET",
        ("balance",),
    )
    assert document.arguments == "expand live"
    assert document.parameters == "Fields to expand."
    # two levels of objects: `deep`'s own properties are left out; references are followed
    # once each
    assert document.returns == "available amount currency nested deep loop"
    assert argument_descriptions(None) == "" and returned_words({"type": "string"}) == ""
    index = SearchIndex([document, Document("get_other", "Get other")])
    assert index.search("currency amounts available", 5)[0][0][0].name == "get_balance"


def test_phrases_from_the_mapping_find_an_operation_its_own_texts_do_not_name() -> None:
    """The mapping's `search` phrases are read like the title: a request in the user's words
    that shares no word with the operation finds it, and the phrase that says no more than the
    request ranks its operation above one that only shares a word with it."""
    refund = Document("post_refunds", "Create a refund", "Refunds a charge.", "/v1/refunds", "POST")
    plain = SearchIndex([refund, Document("get_customer", "Retrieve a customer")])
    assert [d.name for d, _ in plain.search("square things up with a buyer", 2)[0]] == []
    phrased = SearchIndex(
        [
            Document(
                "post_refunds",
                "Create a refund",
                "Refunds a charge.",
                "/v1/refunds",
                "POST",
                phrases=("square things up with a buyer", "make good a customer's loss"),
            ),
            Document("get_customer", "Retrieve a customer"),
        ]
    )
    assert [d.name for d, _ in phrased.search("square things up with a buyer", 2)[0]] == [
        "post_refunds"
    ]
    ranked = phrased.search("a customer's loss", 2)[0]
    assert [d.name for d, _ in ranked] == ["post_refunds", "get_customer"]
