"""An item taken again keeps its message id; the oldest keys are forgotten past capacity."""

from __future__ import annotations

from splice.components.redelivery import RedeliveryIds


def test_an_item_taken_again_keeps_its_id_and_old_keys_are_forgotten() -> None:
    ids = RedeliveryIds(capacity=2)
    first = ids.id_for(("a.csv", 10))
    assert ids.id_for(("a.csv", 10)) == first
    other = ids.id_for(("b.csv", 10))
    assert other != first
    ids.id_for(("c.csv", 10))  # a.csv was used before b.csv: it is the one forgotten
    assert ids.id_for(("b.csv", 10)) == other
    assert ids.id_for(("a.csv", 10)) != first
