"""bench/stats.py and the records report.py builds: medians, ranges, ratios, formatting."""
from bench import report
from bench.measure import Sample
from bench.runner import Outcome
from bench.scenario import Scenario
from bench.stats import (Summary, best_peer, fmt_summary, fmt_value, interleave, ratio,
                         summarize)


def test_summarize_median_min_max():
    s = summarize([3.0, 1.0, 2.0, 10.0])
    assert (s.median, s.low, s.high, s.n) == (2.5, 1.0, 10.0, 4)


def test_summarize_ignores_none_and_empty():
    assert summarize([]) is None
    assert summarize([None, 4.0]).median == 4.0


def test_best_peer_excludes_subject_and_missing():
    medians = {"dockyard": 0.1, "docker": 0.5, "podman": 0.4, "x": None}
    assert best_peer(medians, "dockyard") == ("podman", 0.4)
    assert best_peer({"dockyard": 1.0}, "dockyard") is None


def test_best_peer_for_throughput_takes_the_highest():
    assert best_peer({"dockyard": 1, "docker": 900, "podman": 1200}, "dockyard",
                     higher_is_better=True) == ("podman", 1200)


def test_ratio_above_one_means_subject_is_worse_for_both_kinds():
    assert ratio(2.0, 1.0) == 2.0
    assert ratio(500.0, 1000.0, higher_is_better=True) == 2.0
    assert ratio(None, 1.0) is None and ratio(1.0, 0.0) is None
    assert ratio(0.0, 10.0, higher_is_better=True) is None


def test_interleave_runs_engines_round_by_round():
    assert interleave(["a", "b", "c"], 2) == [(0, "a"), (0, "b"), (0, "c"),
                                              (1, "a"), (1, "b"), (1, "c")]


def test_formatting_units():
    assert fmt_value(0.0531, "s") == "53 ms"
    assert fmt_value(7.123, "s") == "7.12 s"
    assert fmt_value(1234.0, "MB/s") == "1.23 GB/s"
    assert fmt_value(12.94, "MiB") == "12.9 MiB"
    assert fmt_value(0.387, "MiB") == "396 KiB"
    assert fmt_value(-0.002, "MiB") == "-2 KiB"
    assert fmt_value(None, "s") == "-"
    assert fmt_summary(Summary(0.5, 0.4, 0.7, 5), "s") == "500 ms (400 ms–700 ms)"
    assert fmt_summary(Summary(0.5, 0.5, 0.5, 1), "s") == "500 ms"


class _Sc(Scenario):
    id, title = "S1", "run"


def test_scenario_record_ratio_and_not_supported():
    outcomes = {"dockyard": Outcome(error="not supported: run: 'run' is not a dockyard command"),
                "docker": Outcome([Sample(wall=0.5, cpu=0.1, peak_mib=40)]),
                "podman": Outcome([Sample(wall=0.4, cpu=0.2, peak_mib=30),
                                   Sample(wall=0.6, cpu=0.2, peak_mib=30)])}
    rec = report.scenario_record(_Sc(), outcomes)
    assert rec["best_peer"] == "docker" and rec["ratio"] is None
    assert rec["engines"]["dockyard"]["status"] == "not supported"
    assert rec["engines"]["podman"]["value"] == {"median": 0.5, "min": 0.4, "max": 0.6, "n": 2}
    outcomes["dockyard"] = Outcome([Sample(wall=0.25)])
    rec = report.scenario_record(_Sc(), outcomes)
    assert rec["ratio"] == 0.5 and rec["engines"]["dockyard"]["cpu_s"]["median"] == 0.0


def test_tables_show_errors_and_ratios():
    outcomes = {"dockyard": Outcome([Sample(wall=1.0)]), "docker": Outcome([Sample(wall=0.5)])}
    doc = {"engines": ["dockyard", "docker"],
           "scenarios": [report.scenario_record(_Sc(), outcomes)]}
    md = report.markdown_table(doc)
    assert "| S1 | run | 1.00 s | 500 ms | 2.00× (docker) |" in md
    assert "S1" in report.terminal_table(doc)
