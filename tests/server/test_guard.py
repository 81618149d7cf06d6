"""POST /guard: prohibitions block, cautions warn, near misses pass, only the caller's rules count."""

from __future__ import annotations

from bench.guard_set import CASES, RULES
from engram_core.intelligence.terms import conflicts, coverage, key_terms, rule_kind, rule_terms
from tests.helpers import Api


def test_a_stored_prohibition_blocks_the_matching_action(api: Api) -> None:
    rule = api.store(api.admin_key, "Never run rm -rf on /opt/engram", is_static=True, importance=9)
    r = api.call("POST", "/guard", api.admin_key, json={"action": "rm -rf /opt/engram/data"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["signal"] == "block" and body["rules"][0]["id"] == rule
    assert "Never run rm -rf on /opt/engram" in body["message"]
    for action in ("rm -rf /tmp/build", "ls /opt/engram"):
        assert api.call("POST", "/guard", api.admin_key, json={"action": action}).json()["signal"] == "allow"


def test_a_caution_warns_and_a_rule_category_counts(api: Api) -> None:
    api.store(api.admin_key, "Be careful with DROP TABLE statements", category="rule")
    body = api.call("POST", "/guard", api.admin_key, json={"action": "DROP TABLE sessions;"}).json()
    assert body["signal"] == "warn" and body["rules"][0]["signal"] == "warn"


def test_ordinary_memories_are_not_rules(api: Api) -> None:
    api.store(api.admin_key, "Never run rm -rf on /opt/engram")  # importance 5, not static, not a rule
    api.store(api.admin_key, "Engram lives in /opt/engram on the server", is_static=True)  # no marker
    body = api.call("POST", "/guard", api.admin_key, json={"action": "rm -rf /opt/engram"}).json()
    assert body["signal"] == "allow" and body["rules"] == [] and body["rules_checked"] == 0


def test_another_users_rules_do_not_apply(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    api.store(alice, "Never force push to main", category="rule")
    push = {"action": "git push --force origin main"}
    assert api.call("POST", "/guard", alice, json=push).json()["signal"] == "block"
    body = api.call("POST", "/guard", bob, json={"action": "git push --force origin main"}).json()
    assert body["signal"] == "allow" and "force push" not in str(body)


def test_forgotten_rules_stop_applying(api: Api) -> None:
    rule = api.store(api.admin_key, "Never force push to main", category="rule")
    api.call("POST", f"/memory/{rule}/forget", api.admin_key, json={})
    body = api.call("POST", "/guard", api.admin_key, json={"action": "git push --force origin main"}).json()
    assert body["signal"] == "allow"


def test_bad_input_is_a_400_naming_the_field(api: Api) -> None:
    for payload in ({}, {"action": "   "}, {"action": 5}):
        r = api.call("POST", "/guard", api.admin_key, json=payload)
        assert r.status_code == 400 and r.json()["field"] == "action", r.text


def test_the_labelled_set_keyword_tier_never_falsely_blocks(api: Api) -> None:
    """Without an embedding model (this fixture has none): no false block, most blocks found."""
    for rule in RULES:
        api.call("POST", "/store", api.admin_key, json=rule)
    got = [(e, api.call("POST", "/guard", api.admin_key, json={"action": a}).json()["signal"]) for a, e in CASES]
    assert not [g for e, g in got if g == "block" and e != "block"]
    blocks = [g for e, g in got if e == "block"]
    assert blocks.count("block") >= 0.85 * len(blocks)


def test_terms_fold_synonyms_flags_and_paths() -> None:
    assert rule_kind("Never use sudo here") == "block" and rule_kind("Be careful with X") == "warn"
    assert rule_kind("I like tea") is None
    assert {"delete", "-r", "-f", "path:/opt/x"} <= key_terms("rm -rf /opt/x")
    assert "credential" in rule_terms("Never commit API keys") and "ask" not in rule_terms("Avoid X without asking")
    share, hits = coverage(rule_terms("Do not delete the production database"), key_terms("DROP DATABASE prod"))
    assert share == 1.0 and set(hits) == {"delete", "production", "database"}


def test_a_near_miss_that_changes_the_rules_object_warns_instead_of_blocking(api: Api) -> None:
    """Another environment, the opposite switch, or a read-only look where the rule forbids a change: the
    rule's words are there but not the act it forbids, so the guard points at the rule and lets it pass."""
    key = api.admin_key
    api.store(key, "Never drop tables in the production database", is_static=True, importance=9)
    api.store(key, "Never disable the firewall on the gateway hosts", is_static=True, importance=9)
    api.store(key, "Never run kubectl apply against the prod cluster", is_static=True, importance=9)

    def signal(action: str) -> tuple[str, list[str]]:
        body = api.call("POST", "/guard", key, json={"action": action}).json()
        return body["signal"], [t for r in body["rules"] for t in r["conflicting_terms"]]

    assert signal("drop tables in the production database")[0] == "block"
    assert signal("DROP TABLE users in the prod database")[0] == "block"
    assert signal("drop tables in the staging database") == ("warn", ["stag (rule: production)"])
    assert signal("disable the firewall on the gateway hosts")[0] == "block"
    assert signal("enable the firewall on the gateway hosts")[0] == "warn"
    assert signal("kubectl apply -f deploy.yaml against the prod cluster")[0] == "block"
    assert signal("kubectl diff -f deploy.yaml against the prod cluster")[0] == "warn"


def test_conflicting_terms() -> None:
    rule = rule_terms("Never deploy to production on Fridays")
    assert conflicts(rule, key_terms("deploy to production on friday")) == []
    assert conflicts(rule, key_terms("deploy to sandbox on friday")) == [("production", "sandbox")]
    assert conflicts(rule_terms("Do not disable 2FA"), key_terms("enable 2FA")) == [("disabl", "enabl")]
    assert conflicts(rule_terms("Never terraform apply in prod"), key_terms("terraform plan in prod")) == [
        ("apply", "plan")
    ]
    # a look that comes with the forbidden change is still the change
    assert (
        conflicts(rule_terms("Never terraform apply in prod"), key_terms("terraform plan && terraform apply in prod"))
        == []
    )
