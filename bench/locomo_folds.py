"""Leave-one-conversation-out selection of search tunings on LoCoMo, and each lever's ablation.

A *lever* is a group of :class:`~engram_core.search.tuning.Tuning` fields with a few candidate settings,
the first of which turns the lever off. The grid is the product of the chosen levers' settings. Every
setting is scored on every question once (one stored corpus per conversation, see ``bench/locomo.py``);
then, for each of the five conversations, the setting with the best mean ``R@10 + NDCG@10`` on the
*other four* is scored on it (ties go to the setting listed first, i.e. the one with more levers off).
The reported figure is the mean over the five folds, per category and overall: no figure is ever chosen
on the questions it is scored on.

The ablation of a lever is the same fold figure with that lever held off (its grid restricted to the
first setting), so "all" minus "-lever" is what the lever adds on held-out conversations.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from bench.locomo_data import Locomo, Question
from engram_core.search.tuning import Tuning

__all__ = ["LEVERS", "ablations", "fold_select", "grid"]

LEVERS: dict[str, list[dict[str, Any]]] = {
    # FSRS retrievability as a score factor: today (0.1 + 0.9 R, wall clock), milder floors, the user clock.
    "recency": [
        {"retrievability_floor": 0.1, "user_clock": False},
        {"retrievability_floor": 0.1, "user_clock": True},
        {"retrievability_floor": 0.7, "user_clock": True},
        {"retrievability_floor": 1.0, "user_clock": True},
    ],
    # floors only (today's wall clock): with the implicit reviews searches make, how much a recalled
    # memory may outrank its unrecalled neighbours of the same age
    "floor": [
        {"retrievability_floor": 0.1},
        {"retrievability_floor": 0.5},
        {"retrievability_floor": 0.8},
        {"retrievability_floor": 1.0},
    ],
    # the same, trimmed to today and "recency off" (for grids with other levers)
    "recency2": [
        {"retrievability_floor": 0.1, "user_clock": False},
        {"retrievability_floor": 1.0, "user_clock": True},
    ],
    # session-level scoring: each candidate gains this share of its session's best-two mean
    "session": [{"session_weight": 0.0}, {"session_weight": 0.3}, {"session_weight": 0.6}],
    # the same, wider (the first grid chose its largest values)
    "session_wide": [
        {"session_weight": 0.0},
        {"session_weight": 0.6},
        {"session_weight": 1.0},
        {"session_weight": 1.5},
    ],
    # no lever: today's defaults alone (the fold figure of the default tuning)
    "none": [{}],
    # fusion: weight of the min-max score term next to RRF (0.1 today)
    "score": [{"score_weight": 0.1}, {"score_weight": 0.05}, {"score_weight": 0.2}],
    # session context: share of a top hit's score its neighbouring turns receive (0.3 today)
    "context": [{"context_share": 0.3}, {"context_share": 0.15}, {"context_share": 0.5}],
    # candidate pools: every channel's k and the fused pool that is boosted, x1 (today) / x2 / x3
    "pool": [{"candidate_scale": 1.0}, {"candidate_scale": 2.0}, {"candidate_scale": 3.0}],
    # session context: more seeds lend to their neighbours, and further neighbours receive
    "neighbours": [
        {"context_seeds": 10, "context_window": 2},
        {"context_seeds": 20, "context_window": 2},
        {"context_seeds": 10, "context_window": 3},
        {"context_seeds": 20, "context_window": 3},
    ],
    # session context: a decomposed turn's facts (same session and date, the next ids) count as its
    # neighbours (today) or not
    "facts": [{"context_facts": True}, {"context_facts": False}],
    # session context without facts, at lower shares (the share 0.3 was chosen with facts as neighbours)
    "facts_share": [
        {"context_facts": True, "context_share": 0.3},
        {"context_facts": False, "context_share": 0.1},
        {"context_facts": False, "context_share": 0.2},
        {"context_facts": False, "context_share": 0.3},
    ],
    # query expansion: BM25 of the query plus the words its best first-round hits share, fused at this
    # share of the keyword channel's weight
    # (corpus-wide: a second BM25 search over every memory; too slow at 100k, see expand_pool)
    "expand": [{"expand": 0.0}, {"expand": 0.5, "expand_pool": False}, {"expand": 1.0, "expand_pool": False}],
    "expand2": [{"expand": 0.0}, {"expand": 1.0, "expand_pool": False}],
    # expansion that ranks only the candidates the channels found (query + shared words, any word)
    "expand_pool": [
        {"expand": 0.0},
        {"expand": 1.0, "expand_pool": True},
        {"expand": 2.0, "expand_pool": True},
    ],
    "expand_pool_wide": [{"expand": 0.0}] + [{"expand": w, "expand_pool": True} for w in (2.0, 3.0, 4.0)],
    # the expansion's seeds (best first-round hits read) and most words added: 3 / 5 today
    "expand_shape": [
        {"expand_seeds": 3, "expand_terms": 5},
        {"expand_seeds": 5, "expand_terms": 5},
        {"expand_seeds": 3, "expand_terms": 10},
        {"expand_seeds": 5, "expand_terms": 10},
    ],
    # the same, upward (5 / 10 chose the largest shape): today first, so ties keep it
    "expand_shape_up": [{"expand_seeds": s, "expand_terms": t} for s, t in itertools.product((5, 8, 12), (10, 15, 20))],
    # both shape grids together (3 / 5 x 5 / 10, then the upward points): every shape free on the folds
    "expand_shape_all": [
        {"expand_seeds": 3, "expand_terms": 5},
        {"expand_seeds": 5, "expand_terms": 5},
        {"expand_seeds": 3, "expand_terms": 10},
        {"expand_seeds": 5, "expand_terms": 10},
        *(
            {"expand_seeds": s, "expand_terms": t}
            for s, t in itertools.product((5, 8, 12), (10, 15, 20))
            if (s, t) != (5, 10)
        ),
    ],
    "speaker3": [{"speaker_boost": 0.0}, {"speaker_boost": 0.25}, {"speaker_boost": 1.0}],
    "expand_wide": [{"expand": 0.0}] + [{"expand": w, "expand_pool": False} for w in (1.0, 1.5, 2.0, 3.0)],
    # speaker: a turn whose speaker label is a name the query mentions (on top of the name boost)
    "speaker": [{"speaker_boost": 0.0}, {"speaker_boost": 0.25}, {"speaker_boost": 0.5}, {"speaker_boost": 1.0}],
    # the graph channel's second hop: 0.5 today, off, as strong as the first
    "hop2": [{"second_hop": 0.5}, {"second_hop": 0.0}, {"second_hop": 1.0}],
    "names_wide": [{"name_boost": 0.0}, {"name_boost": 0.25}, {"name_boost": 0.5}],
    "names_wider": [{"name_boost": 0.0}, {"name_boost": 0.5}, {"name_boost": 0.75}, {"name_boost": 1.0}],
    # the name boost next to the speaker boost (1.0): today's 0.5 first, so ties keep it
    "names_speaker": [{"name_boost": 0.5}, {"name_boost": 0.0}, {"name_boost": 0.25}, {"name_boost": 1.0}],
    # session diversity: a candidate whose session already has `free` candidates above it is multiplied by
    # (1 - penalty) per such candidate beyond them, so evidence in other sessions gets top slots (off first)
    "diversity": [
        {"session_diversity": 0.0},
        *({"session_diversity": p, "session_free": f} for f, p in itertools.product((1, 2, 3), (0.1, 0.2, 0.35))),
    ],
    # the mildest diversity setting of that grid alone (for grids with expand_shape_all)
    "diversity_mild": [{"session_diversity": 0.0}, {"session_diversity": 0.1, "session_free": 3}],
    # names the query capitalises favour the memories that contain them
    "names": [{"name_boost": 0.0}, {"name_boost": 0.1}, {"name_boost": 0.25}],
}


def _name(params: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items()) or "default"


def grid(levers: Sequence[str]) -> dict[str, tuple[dict[str, int], Tuning]]:
    """Setting name -> (lever -> option index, its Tuning), over the product of ``levers``' options."""
    out: dict[str, tuple[dict[str, int], Tuning]] = {}
    options = [list(enumerate(LEVERS[lever])) for lever in levers]
    for combo in itertools.product(*options):
        params: dict[str, Any] = {}
        for _, p in combo:
            params.update(p)
        choice = {lever: i for lever, (i, _) in zip(levers, combo, strict=True)}
        out[_name(params)] = (choice, replace(Tuning(), **params))
    return out


def _mean(per_q: Mapping[str, Mapping[str, float]], keys: Sequence[str]) -> float:
    return sum(per_q[k]["R@10"] + per_q[k]["NDCG@10"] for k in keys) / max(1, len(keys))


def fold_select(
    data: Locomo,
    per_setting: Mapping[str, Mapping[str, Mapping[str, float]]],
    names: Sequence[str],
    key: Any,
    summarise: Any,
) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Mean over the folds of the held-out figures (group -> metric -> value), and conversation -> choice.

    ``key`` maps a question to its key in ``per_setting[name]``; ``summarise(questions, per_q)`` returns
    group -> metric -> mean over those questions (as ``bench.locomo.summarise``).
    """
    by_conv: dict[str, list[Question]] = defaultdict(list)
    for q in data.questions:
        by_conv[q.sample_id].append(q)
    chosen: dict[str, str] = {}
    folds: list[dict[str, dict[str, float]]] = []
    for held in by_conv:
        train = [key(q) for sid, qs in by_conv.items() if sid != held for q in qs]
        best = max(names, key=lambda n: (_mean(per_setting[n], train), -names.index(n)))
        chosen[held] = best
        folds.append(summarise(by_conv[held], per_setting[best]))
    mean: dict[str, dict[str, float]] = {}
    for group in {g for f in folds for g in f}:
        present = [f[group] for f in folds if group in f]
        mean[group] = {m: sum(f[m] for f in present) / len(present) for m in present[0] if m != "n"}
        mean[group]["n"] = sum(f["n"] for f in present)
    return mean, chosen


def ablations(
    data: Locomo,
    settings: Mapping[str, tuple[dict[str, int], Tuning]],
    per_setting: Mapping[str, Mapping[str, Mapping[str, float]]],
    key: Any,
    summarise: Any,
) -> dict[str, tuple[dict[str, dict[str, float]], dict[str, str]]]:
    """Row name -> fold figures: ``all levers``, ``-lever`` for each lever, and ``no lever``."""
    names = list(settings)
    levers = sorted({lever for choice, _ in settings.values() for lever in choice})
    rows = {"all levers": fold_select(data, per_setting, names, key, summarise)}
    for lever in levers:
        kept = [n for n in names if settings[n][0][lever] == 0]
        rows[f"-{lever}"] = fold_select(data, per_setting, kept, key, summarise)
    off = [n for n in names if not any(settings[n][0].values())]
    rows["no lever"] = fold_select(data, per_setting, off, key, summarise)
    return rows
