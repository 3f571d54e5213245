"""Counter-dict metrics (Crafter's achievements) as shares of episodes, in summaries and the
comparison report."""

from __future__ import annotations

from rlft.compare import rate_table
from rlft.scoring import counter_rates

COW, WAKE = "info/achievements/eat_cow", "info/achievements/wake_up"


def _stage(cows: list[float]) -> dict:
    episodes = {COW: cows, WAKE: [1.0] * len(cows), "info/coverage": [0.5] * len(cows)}
    return {"stage": "none", "info_episodes": episodes, "info_rates": counter_rates(episodes)}


def test_a_counter_entry_is_the_share_of_episodes_where_its_count_is_above_zero() -> None:
    rates = counter_rates(_stage([0.0, 2.0, 1.0, 0.0])["info_episodes"])
    assert set(rates) == {COW, WAKE}  # info/coverage is a plain number, not a counter entry
    assert rates[COW]["rate"] == 0.5 and rates[WAKE]["rate"] == 1.0
    low, high = rates[COW]["ci95"]
    assert 0.0 < low < 0.5 < high < 1.0


def test_the_comparison_report_has_each_rate_and_its_paired_change() -> None:
    teacher, student = _stage([0.0, 2.0, 1.0, 0.0]), _stage([3.0, 0.0, 1.0, 1.0])
    table = rate_table(["teacher", "student"], {"teacher": [teacher], "student": [student]})
    assert table is not None
    rows = {line.split(" | ")[1]: line for line in table.splitlines()[2:]}
    assert set(rows) == {COW, WAKE}
    cow = rows[COW].split(" | ")
    assert cow[2].startswith("0.50 [") and cow[3].startswith("0.75 [")
    assert "(+0.25 [" in cow[3]  # episode by episode: +1, -1, 0, +1
    assert "(+0.00 [+0.00, +0.00])" in rows[WAKE]


def test_no_counter_no_rate_table() -> None:
    plain = {"stage": "none", "info_episodes": {"info/coverage": [0.5]}}
    assert rate_table(["a", "b"], {"a": [plain], "b": [plain]}) is None
