"""Pair choice: comparable images only, informative pairs first, random but seeded sides."""

from collections import Counter

from imagegen.insight.pairing import Item, PastVote, next_pair

ITEMS = [Item(1, "fox", "low"), Item(2, "fox", "medium"), Item(3, "fox", "high"),
         Item(4, "sign", "low"), Item(5, "sign", "medium"), Item(6, "sign", "high"), Item(7, "solo", "low")]


def test_pairs_share_a_group_and_differ_in_setting():
    group = {i.result_id: i.group for i in ITEMS}
    for seed in range(50):
        p = next_pair(ITEMS, [], "ann", seed)
        assert p.left_setting != p.right_setting
        assert group[p.left_result_id] == group[p.right_result_id] == p.group


def test_nothing_to_compare_gives_none():
    assert next_pair([Item(1, "a", "low"), Item(2, "b", "high")], [], "ann") is None
    assert next_pair([], [], "ann") is None


def test_sides_are_random_and_seeded():
    lefts = Counter()
    for seed in range(400):
        p = next_pair(ITEMS[:2], [], "ann", seed)
        lefts[p.left_setting] += 1
    assert 160 <= lefts["low"] <= 240  # a fair coin: 400 draws, ~4.5 sd band
    assert next_pair(ITEMS, [], "ann", 3) == next_pair(ITEMS, [], "ann", 3)


def test_settings_with_few_votes_come_first():
    past = [PastVote(1, 2, "left", "x")] * 20 + [PastVote(4, 5, "right", "x")] * 20
    drawn = Counter()
    for seed in range(200):
        p = next_pair(ITEMS, past, "ann", seed)
        drawn[frozenset((p.left_setting, p.right_setting))] += 1
    assert drawn[frozenset(("low", "medium"))] < drawn[frozenset(("low", "high"))]
    assert drawn[frozenset(("low", "medium"))] < drawn[frozenset(("medium", "high"))]


def test_close_scores_come_before_settled_ones():
    # high beats low every time (settled); medium vs high split evenly (close)
    past = [PastVote(3, 1, "left", "x")] * 6 + [PastVote(2, 3, "left", "x"), PastVote(3, 2, "left", "x")] * 3 \
        + [PastVote(2, 1, "left", "x"), PastVote(1, 2, "left", "x")] * 3
    drawn = Counter()
    for seed in range(300):
        p = next_pair(ITEMS, past, "ann", seed)
        drawn[frozenset((p.left_setting, p.right_setting))] += 1
    assert drawn[frozenset(("medium", "high"))] > drawn[frozenset(("low", "high"))]


def test_a_rater_does_not_see_the_same_pair_again_until_all_are_seen():
    items = ITEMS[:3]
    past: list[PastVote] = []
    seen = set()
    for _ in range(3):
        p = next_pair(items, past, "ann", 1)
        key = frozenset((p.left_result_id, p.right_result_id))
        assert key not in seen
        seen.add(key)
        past.append(PastVote(p.left_result_id, p.right_result_id, "skip", "ann"))
    assert next_pair(items, past, "ann", 1) is not None  # all seen: repeats are allowed again
    # another rater's votes do not hide pairs from ann
    assert next_pair(items, [PastVote(1, 2, "left", "bob"), PastVote(1, 3, "left", "bob")], "ann", 0) is not None
