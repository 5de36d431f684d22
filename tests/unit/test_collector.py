"""The collector held back for a bulk pass, and put back as it was after it — even when the pass fails."""

import gc

import pytest

from workflow.services.collector import BULK_THRESHOLD, fewer_collections


def test_the_thresholds_are_raised_for_the_pass_and_restored_after_a_failure():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        with fewer_collections():
            assert gc.get_threshold()[0] == max(before[0], BULK_THRESHOLD)
            assert gc.get_threshold()[1:] == before[1:]
            raise RuntimeError("a batch lost")
    assert gc.get_threshold() == before
