"""A study file's axes beyond sizes (init schemes, replicates, prune times, the search at two
budgets, where landscapes are measured) and its pre-registered ``[[claims]]``, validated before
any work: one ConfigError naming the field (see `wann.study.spec` for the file format)."""

from __future__ import annotations

import difflib
from typing import Any

from wann.errors import ConfigError

_CLAIM_KEYS = {"id", "text", "test", "a", "b", "margin"}
#: greater: a > b; equivalent: |a - b| < margin (TOST); variance: structure share > init share
CLAIM_TESTS = ("greater", "equivalent", "variance")


def unknown_keys(keys, allowed, where, source):
    for k in keys:
        if k not in allowed:
            close = difflib.get_close_matches(k, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}{k}", f"unknown key{hint}; allowed: {', '.join(sorted(allowed))}", source)


def int_in(v, path, source, lo=0, hi=None):
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        bound = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ConfigError(path, f"must be an integer {bound}, got {v!r}", source)
    return v


def parse_axes(st: dict[str, Any], source) -> dict[str, Any]:
    """The study's init, replicate, prune-time, half-search and landscape settings, validated."""
    from wann.baselines.inits import check_scheme

    inits = st.get("inits", ["default"])
    if not isinstance(inits, list) or not inits or not all(isinstance(i, str) for i in inits):
        raise ConfigError("study.inits", 'a list of init scheme names, e.g. inits = ["default", "uniform2"]', source)
    for i in inits:
        try:
            check_scheme(i, "study.inits")
        except ConfigError as e:
            raise ConfigError("study.inits", e.message, source) from None
    if len(set(inits)) != len(inits):
        raise ConfigError("study.inits", f"repeated scheme in {inits}", source)
    replicates = int_in(st.get("replicates", 1), "study.replicates", source, 1, 100)
    times = st.get("prune_times", [])
    if not isinstance(times, list) or not all(
        not isinstance(t, bool) and isinstance(t, (int, float)) and 0 < t <= 1 for t in times
    ):
        msg = "fractions of the parent's training in (0, 1], e.g. prune_times = [0.1, 0.25, 0.5, 1.0]"
        raise ConfigError("study.prune_times", msg, source)
    if len(set(times)) != len(times):
        raise ConfigError("study.prune_times", f"repeated time in {times}", source)
    half = st.get("half_search", False)
    if not isinstance(half, bool):
        raise ConfigError("study.half_search", f"must be true or false, got {half!r}", source)
    land = st.get("landscapes", "all")
    if land not in ("all", "base"):
        raise ConfigError("study.landscapes", f"use 'all' or 'base', got {land!r}", source)
    return {
        "inits": list(inits),
        "replicates": replicates,
        "prune_times": [float(t) for t in times],
        "half_search": half,
        "landscapes": land,
    }


def parse_claims(raw: Any, source) -> list[dict[str, Any]]:
    """The [[claims]] tables, validated: a unique id, a text, a test of `CLAIM_TESTS`, arms
    'method/variant' naming methods of the registry (b: not for a variance claim)."""
    import re

    from wann.baselines.methods import REGISTRY

    if not isinstance(raw, list):
        raise ConfigError("claims", "must be an array of tables: [[claims]] id = ..., text = ..., test = ...", source)
    out, ids = [], set()
    for i, c in enumerate(raw):
        w = f"claims[{i}]."
        if not isinstance(c, dict):
            raise ConfigError(f"claims[{i}]", "must be a table", source)
        unknown_keys(c, _CLAIM_KEYS, w, source)
        cid = c.get("id")
        if not isinstance(cid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", cid):
            raise ConfigError(
                f"{w}id", 'a short name of lower-case letters, digits and "-", e.g. "structure-alone"', source
            )
        if cid in ids:
            raise ConfigError(f"{w}id", f"{cid!r} is used by two claims", source)
        ids.add(cid)
        text = c.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{w}text", "the claim in words, written before the run", source)
        test = c.get("test")
        if test not in CLAIM_TESTS:
            raise ConfigError(f"{w}test", f"use one of {', '.join(CLAIM_TESTS)}, got {test!r}", source)
        arms = ["a"] if test == "variance" else ["a", "b"]
        if test == "variance" and "b" in c:
            raise ConfigError(f"{w}b", "a variance claim has one arm, a (the fixed-structure methods)", source)
        doc = {"id": cid, "text": text.strip(), "test": test}
        for arm in arms:
            v = c.get(arm)
            items = v if arm == "a" and test == "variance" and isinstance(v, list) else [v]
            for item in items:
                if not isinstance(item, str) or item.count("/") != 1:
                    msg = 'an arm is "method/variant", e.g. "pruned_at/1x@0.25" or "wann_best_shared/-"'
                    raise ConfigError(f"{w}{arm}", msg, source)
                m = item.split("/")[0]
                if m not in REGISTRY:
                    close = difflib.get_close_matches(m, REGISTRY, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise ConfigError(f"{w}{arm}", f"unknown method {m!r}{hint}", source)
            doc[arm] = v
        if "margin" in c:
            mg = c["margin"]
            if isinstance(mg, bool) or not isinstance(mg, (int, float)) or not 0 < mg < 1e9:
                raise ConfigError(f"{w}margin", f"a positive number in score units, got {mg!r}", source)
            doc["margin"] = float(mg)
        out.append(doc)
    return out
