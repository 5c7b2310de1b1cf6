"""Charts that tell the truth, and facts that wrap between fields: pure text, no screen."""

from __future__ import annotations

import math

from rich.style import Style

from tomconsole.ui.render.charts import plot, scale_for, time_axis
from tomconsole.ui.render.facts import facts_text

NAN = math.nan


def test_percentages_are_on_a_fixed_0_to_100_scale() -> None:
    flat_low = [5.0] * 6
    scale = scale_for("%", flat_low)
    assert (scale.top, scale.label) == (100.0, "100%")
    rows = plot(flat_low, 6, 4, scale.top)
    assert rows[:3] == [" " * 6] * 3  # 5 % stays near the floor, not a full-height band
    assert rows[3] == "▂" * 6


def test_a_missing_sample_is_a_gap_not_a_zero() -> None:
    rows = plot([40.0, NAN, 40.0], 3, 2, 100.0)
    assert rows[1][1] == "·" and rows[0][1] == " "
    assert rows[1][0] != "·" and rows[1][0] != " "


def test_other_units_are_scaled_to_their_largest_value_and_labelled() -> None:
    assert scale_for("B/s", [1024.0 * 300, 1024.0 * 1200]).label == "1.2M"
    assert scale_for("", [0.5, 1.2], floor=4.0).top == 4.0  # load: at least the host's CPUs
    assert scale_for("", [NAN, NAN], floor=2.0).top == 2.0


def test_time_runs_along_the_x_axis_to_now() -> None:
    axis = time_axis(60, 2.0, 60)
    assert axis.startswith("-2m") and axis.endswith("now") and "-1m" in axis
    short = time_axis(60, 2.0, 10)  # 10 samples, right-aligned: the left label is where they start
    assert short.index("-20s") == 50 and short.endswith("now")
    assert time_axis(20, 2.0, 3).strip() == "now"  # no room for two labels: no overlap


def test_facts_wrap_between_fields_never_inside_one() -> None:
    pairs = [("os", "Debian GNU/Linux 12 (bookworm)"), ("kernel", "6.1.0-27-amd64"), ("tags", "db, demo")]
    text = facts_text(pairs, 40, Style())
    lines = text.plain.split("\n")
    assert lines == ["os: Debian GNU/Linux 12 (bookworm)", "kernel: 6.1.0-27-amd64   tags: db, demo"]
