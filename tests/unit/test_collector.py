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


def test_two_passes_that_overlap_leave_the_thresholds_as_they_found_them():
    """Two campaigns' ticks in one worker's threads: the first to end must not put the default back under the
    other, and the last must not put back the other's raised value."""
    before = gc.get_threshold()
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == max(before[0], BULK_THRESHOLD), "still held back for the pass under way"
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
