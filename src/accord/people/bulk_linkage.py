"""Linkage of many new (or changed) records at once, for bulk feeds.

Incremental linkage (:mod:`accord.people.linkage`) asks the key index and Splink once per
record: about 100 ms a record, hours for a feed of a million bookings. Here every person
record is held in memory as the model's input frame for the length of the feed, and each
batch of records is scored against all of them in one Splink prediction (``link_only``:
the batch against the index, which includes the batch itself, so two new records of one
batch can link to each other). Candidates come from the model's blocking rules (as in
``accord people resolve``), not from the conflict-check keys; the scores, thresholds and
the decision (:func:`accord.people.actions.link_in_bulk`) are those of incremental linkage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from accord.people import resolution
from accord.people.linkage import _ROW_FIELDS, Scored, _row, current_model


def _rows_of(record_ids: Iterable[int] | None) -> list[dict[str, Any]]:
    from accord.people.models import PersonRecord

    records = PersonRecord.objects.all()
    if record_ids is not None:
        records = records.filter(pk__in=list(record_ids))
    return [_row(v) for v in records.values(*_ROW_FIELDS).iterator(chunk_size=5000)]


class LinkageIndex:
    """Every person record, as the model's input frame, kept current by the feed that
    holds it (:meth:`refresh` after each batch commits; a batch rolled back leaves the
    index as it was, because it is refreshed only from committed rows)."""

    def __init__(self, model: dict[str, Any] | None = None) -> None:
        import pandas as pd

        self.model = dict(model or current_model())
        # The frame of the batch last scored: what refresh() puts in once it commits (the
        # rows cannot change in between: the chunk's transaction wrote them).
        self._scored: Any = None
        self.frame: Any = resolution._frame(_rows_of(None))
        if self.frame.empty:
            self.frame = pd.DataFrame(columns=list(resolution.COLUMNS))

    def __len__(self) -> int:
        return len(self.frame)

    def _settings(self) -> dict[str, Any]:
        fresh = resolution.settings_dict("link_only", len(self.frame))
        settings = dict(self.model)
        settings["link_type"] = "link_only"
        settings["blocking_rules_to_generate_predictions"] = fresh[
            "blocking_rules_to_generate_predictions"
        ]
        settings["additional_columns_to_retain"] = []
        return settings

    def score(self, record_ids: Sequence[int]) -> dict[int, list[Scored]]:
        """Each record's candidates with at least the review probability, most probable
        first (itself excluded; the other records of the batch included)."""
        import pandas as pd

        found: dict[int, list[Scored]] = {pk: [] for pk in record_ids}
        if not record_ids:
            return found
        batch = resolution._frame(_rows_of(record_ids))
        self._scored = batch
        ids = set(batch["unique_id"])
        known = pd.concat([self.frame[~self.frame["unique_id"].isin(ids)], batch])
        settings = self._settings()
        linker = resolution._linker([batch, known], settings)
        predictions = linker.inference.predict(
            threshold_match_probability=resolution.REVIEW_THRESHOLD
        )
        connection = linker._db_api._con
        rows = connection.execute(
            f"SELECT * FROM {predictions.physical_name}"  # noqa: S608 - Splink's own table name
        ).df()
        batch_side = "input_0"
        for row in rows.to_dict("records"):
            left, right = str(row["unique_id_l"]), str(row["unique_id_r"])
            if left == right:
                continue
            if row.get("source_dataset_l") == batch_side:
                own, other = left, right
            else:
                own, other = right, left
            agreed, levels = resolution.describe(row, settings)
            found[int(own)].append(
                Scored(
                    other_id=int(other),
                    match_probability=float(row["match_probability"]),
                    match_weight=float(row["match_weight"]),
                    agreed=agreed,
                    levels=levels,
                )
            )
        for scored in found.values():
            scored.sort(key=lambda s: (-s.match_probability, s.other_id))
        return found

    def refresh(self, record_ids: Sequence[int]) -> None:
        """Put these (committed) records' current values in the index."""
        import pandas as pd

        if not record_ids:
            return
        batch = self._scored
        if batch is None or set(batch["unique_id"]) != {str(pk) for pk in record_ids}:
            batch = resolution._frame(_rows_of(record_ids))
        self._scored = None
        kept = self.frame[~self.frame["unique_id"].isin(set(batch["unique_id"]))]
        self.frame = pd.concat([kept, batch], ignore_index=True)
