"""Identity resolution with Splink 5 on DuckDB: which person records are the same person.

The model is a Fellegi-Sunter model whose parameters are learnt from the records
themselves, without labels: u-probabilities from random pairs
(``estimate_u_using_random_sampling``), m-probabilities by expectation maximisation on
blocked pairs (``estimate_parameters_using_expectation_maximisation``). The same model
scores a new record against its candidates (incremental linkage, ``score_pairs``), and a
whole file at once (``resolve``, behind ``accord people resolve``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from accord.people.names import canonical_forms, joined, normalize, parts

# Input columns of the model (``unique_id`` names a record as "<source>:<source id>").
ID_COLUMNS = ("ssn_last4", "state_id", "fbi_number", "driver_license")
COLUMNS = (
    "unique_id",
    "source",
    "source_id",
    "first_name",
    "last_name",
    "middle_initial",
    "first_canon",
    "last_parts",
    "dob",
    *ID_COLUMNS,
    "address",
    "city",
    "postal_code",
)
# Pairs at or above this probability are the same person; between REVIEW and LINK a person
# decides (the review queue); below REVIEW they are different people.
LINK_THRESHOLD = 0.99
REVIEW_THRESHOLD = 0.5
# Clustering a whole file: pairs at or above this probability join a cluster.
CLUSTER_THRESHOLD = 0.95
U_SAMPLE_PAIRS = 1e6
# The model is learnt from at most this many records (a random sample): m and u and the
# match rate do not need more, and training cost grows with the square of block sizes.
TRAINING_SAMPLE = 150_000
DUCKDB_MEMORY = "3GB"
# Fewer records than this teach the model little: the shipped model scores them.
MIN_TRAINING_RECORDS = 1000
# Below this many records, broad blocking rules (one name, or the DOB, alone) are cheap and
# find the pairs whose every other field went wrong; above it they would compare too much.
BROAD_BLOCKING_LIMIT = 20_000
log = logging.getLogger(__name__)


def _blank(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _jw(column: str, threshold: float) -> str:
    return f"jaro_winkler_similarity({column}_l, {column}_r) >= {threshold}"


NAME_COMPARISON: dict[str, Any] = {
    "output_column_name": "name",
    "comparison_description": "First and last name, with swaps, nicknames, compound surnames",
    "comparison_levels": [
        _level(
            "first_name_l IS NULL OR first_name_r IS NULL OR last_name_l IS NULL "
            "OR last_name_r IS NULL",
            "Name missing",
            is_null_level=True,
        ),
        _level("first_name_l = first_name_r AND last_name_l = last_name_r", "Same name"),
        _level(
            "first_name_l = last_name_r AND last_name_l = first_name_r",
            "First and last names swapped",
        ),
        _level(
            "last_name_l = last_name_r AND list_has_any(first_canon_l, first_canon_r)",
            "Same surname, nickname",
        ),
        _level(f"{_jw('first_name', 0.92)} AND {_jw('last_name', 0.92)}", "Both names close"),
        _level(
            "(list_has_any(first_canon_l, first_canon_r) OR "
            f"{_jw('first_name', 0.88)}) AND ({_jw('last_name', 0.88)} "
            "OR list_has_any(last_parts_l, last_parts_r))",
            "Both names fairly close, or a compound surname part",
        ),
        _level("last_name_l = last_name_r", "Same surname only"),
        _level("first_name_l = first_name_r", "Same first name only"),
        _level("ELSE", "Different names"),
    ],
}

DOB_COMPARISON: dict[str, Any] = {
    "output_column_name": "dob",
    "comparison_description": "Date of birth (YYYY-MM-DD text)",
    "comparison_levels": [
        _level("dob_l IS NULL OR dob_r IS NULL", "DOB missing", is_null_level=True),
        _level("dob_l = dob_r", "Same DOB"),
        _level(
            "substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = "
            "substr(dob_r, 9, 2) AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)",
            "Day and month swapped",
        ),
        _level("levenshtein(dob_l, dob_r) <= 1", "One digit off"),
        _level(
            "substr(dob_l, 6, 5) = substr(dob_r, 6, 5) AND abs(try_cast(substr(dob_l, 1, 4) "
            "AS INTEGER) - try_cast(substr(dob_r, 1, 4) AS INTEGER)) = 1",
            "Year off by one",
        ),
        _level("substr(dob_l, 1, 4) = substr(dob_r, 1, 4)", "Same year"),
        _level("ELSE", "Different DOB"),
    ],
}


def _exact(column: str, *, fuzzy: bool = False) -> dict[str, Any]:
    levels = [
        _level(f"{column}_l IS NULL OR {column}_r IS NULL", "Missing", is_null_level=True),
        _level(f"{column}_l = {column}_r", "Same"),
    ]
    if fuzzy:
        # DuckDB's levenshtein is several times faster than its damerau_levenshtein; two
        # edits still catch two neighbouring digits swapped.
        levels.append(_level(f"levenshtein({column}_l, {column}_r) <= 1", "One off"))
        levels.append(_level(f"levenshtein({column}_l, {column}_r) <= 2", "Two off"))
    levels.append(_level("ELSE", "Different"))
    return {"output_column_name": column, "comparison_levels": levels}


ADDRESS_COMPARISON: dict[str, Any] = {
    "output_column_name": "address",
    "comparison_levels": [
        _level("address_l IS NULL OR address_r IS NULL", "Missing", is_null_level=True),
        _level("address_l = address_r", "Same address"),
        _level(_jw("address", 0.9), "Similar address"),
        _level(_jw("address", 0.7), "Somewhat similar address"),
        _level("ELSE", "Different"),
    ],
}
CITY_COMPARISON: dict[str, Any] = {
    "output_column_name": "city",
    "comparison_levels": [
        _level("city_l IS NULL OR city_r IS NULL", "Missing", is_null_level=True),
        _level("city_l = city_r", "Same city"),
        _level(_jw("city", 0.9), "Similar city"),
        _level("ELSE", "Different"),
    ],
}

BLOCKING_RULES = (
    "l.first_name = r.first_name AND l.last_name = r.last_name",
    "l.dob = r.dob AND substr(l.last_name, 1, 2) = substr(r.last_name, 1, 2)",
    "l.dob = r.dob AND substr(l.first_name, 1, 2) = substr(r.first_name, 1, 2)",
    "l.dob = r.dob AND l.first_name = r.last_name",
    "l.state_id = r.state_id",
    "l.ssn_last4 = r.ssn_last4 AND substr(l.dob, 1, 4) = substr(r.dob, 1, 4)",
    "l.last_name = r.last_name AND substr(l.dob, 1, 7) = substr(r.dob, 1, 7)",
    "l.first_name = r.first_name AND substr(l.dob, 1, 7) = substr(r.dob, 1, 7)",
    "l.last_name = r.last_name AND l.address = r.address",
)
BROAD_BLOCKING_RULES = (
    "l.first_name = r.first_name",
    "l.last_name = r.last_name",
    "l.dob = r.dob",
    "l.postal_code = r.postal_code",
)
DETERMINISTIC_RULES = (
    "l.first_name = r.first_name AND l.last_name = r.last_name AND l.dob = r.dob",
    "l.state_id = r.state_id AND l.last_name = r.last_name",
)
EM_RULES = (
    "l.first_name = r.first_name AND l.last_name = r.last_name",
    "l.dob = r.dob",
)


def settings_dict(link_type: str = "dedupe_only", record_count: int = 0) -> dict[str, Any]:
    rules = list(BLOCKING_RULES)
    if record_count <= BROAD_BLOCKING_LIMIT:
        rules += BROAD_BLOCKING_RULES
    return {
        "link_type": link_type,
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1e-5,
        "comparisons": [
            NAME_COMPARISON,
            DOB_COMPARISON,
            _exact("ssn_last4"),
            _exact("state_id", fuzzy=True),
            _exact("fbi_number"),
            _exact("driver_license"),
            _exact("middle_initial"),
            ADDRESS_COMPARISON,
            CITY_COMPARISON,
            _exact("postal_code", fuzzy=True),
        ],
        "blocking_rules_to_generate_predictions": [{"blocking_rule": rule} for rule in rules],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": ["source"],
    }


@dataclass(frozen=True)
class Resolution:
    """Clusters (record → person) and the scored pairs behind them, as pandas frames."""

    clusters: Any  # unique_id, cluster_id
    pairs: Any  # unique_id_l, unique_id_r, match_probability, match_weight
    model: dict[str, Any]


def _mapped(column: Any, convert: Any) -> Any:
    """Apply ``convert`` once per distinct value (names repeat: a million records hold a
    few thousand distinct names)."""
    distinct = {value: convert(value) for value in column.unique()}
    return column.map(distinct)


def _frame(rows: Iterable[Mapping[str, Any]]) -> Any:
    """The model's input frame for many records, built column by column."""
    import pandas as pd

    raw = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if raw.empty:
        return pd.DataFrame(columns=list(COLUMNS))

    def column(name: str) -> Any:
        if name in raw.columns:
            return raw[name].fillna("").astype(str)
        return pd.Series([""] * len(raw), index=raw.index)

    if "identifiers" in raw.columns:
        identifiers = raw["identifiers"].map(lambda v: v if isinstance(v, dict) else {})
        for name in ID_COLUMNS:
            extracted = identifiers.map(lambda v, n=name: str(v.get(n) or ""))
            raw[name] = column(name).where(column(name) != "", extracted)
    first = _mapped(column("first_name"), lambda v: joined(normalize(v)))
    last_text = _mapped(column("last_name"), normalize)
    last = _mapped(last_text, joined)
    dob_source = raw["date_of_birth"] if "date_of_birth" in raw.columns else column("dob")
    dob = dob_source.map(lambda v: v.isoformat() if isinstance(v, date) else (str(v) if v else ""))
    address = column("address_line") if "address_line" in raw.columns else column("address")
    frame = pd.DataFrame(
        {
            "unique_id": column("unique_id"),
            "source": column("source"),
            "source_id": column("source_id"),
            "first_name": first,
            "last_name": last,
            "middle_initial": _mapped(column("middle_name"), lambda v: joined(normalize(v))[:1]),
            "first_canon": _mapped(first, lambda v: sorted(canonical_forms(v)) if v else []),
            "last_parts": _mapped(
                last_text, lambda v: sorted(set(parts(v)) | ({joined(v)} if v else set()))
            ),
            "dob": dob,
            # Addresses keep their digits: lower case, punctuation to spaces.
            "address": address.str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip(),
            "city": _mapped(column("city"), normalize),
            "postal_code": column("postal_code").str.strip(),
        }
    )
    for name in ID_COLUMNS:
        frame[name] = column(name).str.strip()
    frame = frame[list(COLUMNS)]
    # Blank is unknown: Splink's null levels need NULL, not "".
    for name in COLUMNS:
        if name not in ("first_canon", "last_parts", "unique_id", "source", "source_id"):
            frame[name] = frame[name].replace("", None)
    return frame


def _connection() -> Any:
    import duckdb

    # DuckDB spills to disk past this, so a million records stay well inside 6 GB.
    return duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "preserve_insertion_order": False})


def _quiet() -> None:
    # Splink logs advice (sample sizes, untrained levels) at WARNING; Accord reports its own.
    logging.getLogger("splink").setLevel(logging.ERROR)


def _linker(frames: Sequence[Any], settings: dict[str, Any]) -> Any:
    from splink import DuckDBAPI, Linker

    _quiet()
    db_api = DuckDBAPI(_connection())
    tables = [
        db_api.register(frame, dataset_display_name=f"input_{i}") for i, frame in enumerate(frames)
    ]
    return Linker(tables if len(tables) > 1 else tables[0], settings, log_level=None)


def train(linker: Any, *, recall: float = 0.8, u_pairs: float = U_SAMPLE_PAIRS) -> None:
    """Learn the model from the data: λ from deterministic rules, u from random pairs, m by
    expectation maximisation on two blockings (each fixes the comparisons it blocks on)."""
    from splink import block_on

    training = linker.training
    training.estimate_probability_two_random_records_match(list(DETERMINISTIC_RULES), recall)
    training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=7)
    training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "last_name"), estimate_without_term_frequencies=True
    )
    training.estimate_parameters_using_expectation_maximisation(
        block_on("dob"), estimate_without_term_frequencies=True
    )


def _predict(
    rows: Any,
    link_type: str,
    threshold: float,
    duplicate_free: Sequence[str],
    model: dict[str, Any] | None,
) -> tuple[Any, Any, Any, dict[str, Any]]:
    frames = [_frame(rows)] if link_type == "dedupe_only" else [_frame(g) for g in rows]
    count = sum(len(f) for f in frames)
    if model is None:
        model = _trained(frames, link_type, count)
    linker = _linker(frames, model)
    predictions = linker.inference.predict(threshold_match_probability=REVIEW_THRESHOLD)
    if duplicate_free:
        clusters = linker.clustering.cluster_using_single_best_links(
            predictions,
            duplicate_free_datasets=list(duplicate_free),
            threshold_match_probability=threshold,
        )
    else:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
    return linker, predictions, clusters, model


def resolve(
    rows: Any,
    *,
    link_type: str = "dedupe_only",
    threshold: float = CLUSTER_THRESHOLD,
    duplicate_free: Sequence[str] = (),
    model: dict[str, Any] | None = None,
) -> Resolution:
    """Link and cluster records (one iterable or frame for dedupe, several for
    ``link_only``), training the model on them unless one is given."""
    linker, predictions, clusters, model = _predict(
        rows, link_type, threshold, duplicate_free, model
    )
    connection = linker._db_api._con
    cluster_frame = connection.execute(
        f"SELECT unique_id, cluster_id FROM {clusters.physical_name}"  # noqa: S608
    ).df()
    columns = "unique_id_l, unique_id_r, match_probability, match_weight"
    # Splink's own table names, no input in the SQL.
    pairs = connection.execute(f"SELECT {columns} FROM {predictions.physical_name}").df()  # noqa: S608
    return Resolution(cluster_frame, pairs, model)


def _safe(column: str) -> str:
    # A cell a spreadsheet would run as a formula is written as text (CWE-1236).
    quote = "''''"
    return (
        f"CASE WHEN left({column}, 1) IN ('=', '+', '-', '@') THEN {quote} || {column} "
        f"ELSE {column} END AS {column}"
    )


_LINKS_SQL = """
WITH pairs AS (
    SELECT unique_id_l AS uid, unique_id_r AS other, match_probability, match_weight
    FROM {predictions}
    UNION ALL
    SELECT unique_id_r, unique_id_l, match_probability, match_weight FROM {predictions}
),
c AS (SELECT unique_id, cluster_id FROM {clusters}),
best AS (
    SELECT p.uid,
           arg_max(p.other, p.match_probability) AS best_match,
           max(p.match_probability) AS match_probability,
           arg_max(p.match_weight, p.match_probability) AS match_weight
    FROM pairs p
    JOIN c AS c1 ON c1.unique_id = p.uid
    JOIN c AS c2 ON c2.unique_id = p.other
    WHERE c1.cluster_id = c2.cluster_id
    GROUP BY p.uid
),
links AS (
    SELECT i.source, i.source_id, coalesce(c.cluster_id, i.unique_id) AS person,
           count(*) OVER (PARTITION BY coalesce(c.cluster_id, i.unique_id)) AS person_size,
           best.best_match,
           round(best.match_probability, 6) AS match_probability,
           round(best.match_weight, 3) AS match_weight
    FROM {source} AS i
    LEFT JOIN c ON c.unique_id = i.unique_id
    LEFT JOIN best ON best.uid = i.unique_id
)
SELECT {columns} FROM links ORDER BY source, source_id
"""


def resolve_to_csv(
    rows: Any, output: str, *, threshold: float = CLUSTER_THRESHOLD
) -> tuple[int, int]:
    """Resolve records and write one links row per record (columns in docs/people.md)
    straight from DuckDB. Returns (records, persons)."""
    linker, predictions, clusters, _model = _predict(rows, "dedupe_only", threshold, (), None)
    source = next(iter(linker._input_tables_dict.values())).physical_name
    columns = ", ".join(
        [
            _safe("source"),
            _safe("source_id"),
            _safe("person"),
            "person_size",
            _safe("best_match"),
            "match_probability",
            "match_weight",
        ]
    )
    sql = _LINKS_SQL.format(
        predictions=predictions.physical_name,
        clusters=clusters.physical_name,
        source=source,
        columns=columns,
    )
    connection = linker._db_api._con
    target = output.replace("'", "''")
    connection.execute(f"COPY ({sql}) TO '{target}' (HEADER, DELIMITER ',')")
    row = connection.execute(
        f"SELECT count(*), count(DISTINCT cluster_id) FROM {clusters.physical_name}"  # noqa: S608
    ).fetchone()
    return int(row[0]), int(row[1])


def shipped_model(link_type: str = "dedupe_only", record_count: int = 0) -> dict[str, Any]:
    """The model Accord ships (trained on synthetic multi-agency records), set up for this
    link type and size."""
    import json
    from pathlib import Path

    model: dict[str, Any] = json.loads(
        Path(__file__).with_name("default_model.json").read_text(encoding="utf-8")
    )
    fresh = settings_dict(link_type, record_count)
    model["link_type"] = link_type
    model["blocking_rules_to_generate_predictions"] = fresh[
        "blocking_rules_to_generate_predictions"
    ]
    return model


def _trained(frames: Sequence[Any], link_type: str, count: int) -> dict[str, Any]:
    """Train on the frames (a random sample of them when they are large). Too few records
    to learn from, or training that finds no pairs, falls back to the shipped model."""
    from splink.internals.exceptions import SplinkException

    if count < MIN_TRAINING_RECORDS:
        return shipped_model(link_type, count)
    share = min(1.0, TRAINING_SAMPLE / max(count, 1))
    sample = [f.sample(frac=share, random_state=7) if share < 1.0 else f for f in frames]
    linker = _linker(sample, settings_dict(link_type, count))
    try:
        train(linker)
    except (SplinkException, ValueError, ZeroDivisionError) as exc:
        log.warning("Training on these records failed (%s); using the shipped model.", exc)
        return shipped_model(link_type, count)
    model: dict[str, Any] = linker.misc.save_model_to_json()
    return model


def train_model(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A trained model (Splink settings with m and u) from a set of records."""
    frame = _frame(rows)
    return _trained([frame], "dedupe_only", len(frame))


# --- scoring pairs for incremental linkage -----------------------------------------------------


@dataclass(frozen=True)
class PairScore:
    left: str
    right: str
    match_probability: float
    match_weight: float
    agreed: list[str]
    levels: dict[str, str]


def _level_labels(model: Mapping[str, Any]) -> dict[str, tuple[list[str], int]]:
    """Per comparison: the labels by gamma value, and the gamma of the top level."""
    found = {}
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        labels = [str(lv.get("label_for_charts", "")) for lv in reversed(levels)]
        found[str(comparison["output_column_name"])] = (labels, len(levels) - 1)
    return found


def describe(row: Mapping[str, Any], model: Mapping[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The fields that agreed exactly, and each comparison's level in words."""
    agreed: list[str] = []
    levels: dict[str, str] = {}
    for name, (labels, top) in _level_labels(model).items():
        gamma = row.get(f"gamma_{name}")
        if gamma is None or int(gamma) < 0:
            levels[name] = "missing"
            continue
        gamma = int(gamma)
        levels[name] = labels[gamma] if gamma < len(labels) else str(gamma)
        if gamma == top:
            agreed.append(name)
    return agreed, levels


_scoring = threading.local()


def _scoring_api() -> Any:
    """One in-memory DuckDB per thread for scoring pairs (a connection is not shared
    between threads)."""
    from splink import DuckDBAPI

    api = getattr(_scoring, "api", None)
    if api is None:
        api = _scoring.api = DuckDBAPI(_connection())
    return api


def _drop_scoring_tables() -> None:
    """compare_records leaves its inputs and result behind in the reused connection."""
    connection = _scoring_api()._con
    found = connection.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_name LIKE '__splink__%compare_records%'"
    ).fetchall()
    for name, kind in found:
        what = "VIEW" if kind == "VIEW" else "TABLE"
        connection.execute(f'DROP {what} IF EXISTS "{name}"')


def score_pairs(
    pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], model: Mapping[str, Any]
) -> list[PairScore]:
    """Score (left, right) record pairs with a trained model (Splink's ``compare_records``
    on an in-memory DuckDB): how incremental linkage scores a new record's candidates."""
    if not pairs:
        return []
    from splink.internals.realtime import compare_records

    _quiet()
    left = _frame([a for a, _b in pairs])
    right = _frame([b for _a, b in pairs])
    left["pair"] = range(len(pairs))
    right["pair"] = range(len(pairs))
    settings = dict(model)
    settings["retain_intermediate_calculation_columns"] = False
    settings["additional_columns_to_retain"] = []
    # The SQL for one model is built once per process and the DuckDB connection reused:
    # building them is most of the cost of scoring a handful of pairs.
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    scored = compare_records(
        left,
        right,
        settings,
        _scoring_api(),
        sql_cache_key=f"accord-{key}",
        join_condition="l.pair = r.pair",
    )
    result = scored.as_record_list()
    _drop_scoring_tables()
    scores = []
    for row in result:
        agreed, levels = describe(row, model)
        scores.append(
            PairScore(
                left=str(row["unique_id_l"]),
                right=str(row["unique_id_r"]),
                match_probability=float(row["match_probability"]),
                match_weight=float(row["match_weight"]),
                agreed=agreed,
                levels=levels,
            )
        )
    return scores
