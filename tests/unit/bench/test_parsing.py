"""Parsing in bench/: daemon phase lines, /proc status files, error lines, py-spy stacks."""
from bench import measure, phases, profile


def test_phase_line_units_and_keys():
    line = ("2026-12-03 16:40:28,617 DEBUG dockyard.containers: run phases: lookup=1.5ms "
            "mount=0.002s net=750us cgroup=0.7 start=12ms")
    assert phases.parse_phase_line(line) == {"lookup": 1.5, "mount": 2.0, "net": 0.75,
                                             "cgroup": 0.7, "start": 12.0}


def test_phase_line_rejects_other_lines():
    assert phases.parse_phase_line("DEBUG dockyard.api: POST /containers/create 3ms") is None
    assert phases.parse_phase_line("run phases: nothing here") is None


def test_phase_log_summary_keeps_first_seen_order():
    text = "x\nrun phases: lookup=1ms start=10ms\nrun phases: lookup=3ms start=20ms net=2ms\n"
    recs = phases.parse_phase_log(text)
    table = phases.summarize_phases(recs)
    assert list(table) == ["lookup", "start", "net"]
    assert table["lookup"]["median"] == 2.0 and table["net"]["n"] == 1
    assert "lookup=2.0ms (1.0–3.0)" in phases.format_phases("t", table)


def test_parse_status_and_smaps_rollup():
    status = "Name:\tpython\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t4\n"
    assert measure.parse_status(status) == {"VmHWM": 20480, "VmRSS": 10240}
    rollup = "55d0-7ffd ---p 00000000 00:00 0  [rollup]\nRss:  1624 kB\nPss:   251 kB\n"
    assert measure.parse_status(rollup)["Pss"] == 251


def test_first_error_line_prefers_error_lines():
    err = "Sending build context\nStep 1/7 : FROM x\nError: no such image: x\n\nhint\n"
    assert measure.first_error_line(err) == "Error: no such image: x"
    assert measure.first_error_line("only this\n") == "only this"
    assert measure.first_error_line("") == ""


def test_run_cmd_measures_and_reports_failures():
    sample, out = measure.run_cmd(["sh", "-c", "echo hi"])
    assert out == "hi\n" and sample.wall > 0 and sample.peak_mib > 0
    try:
        measure.run_cmd(["sh", "-c", "echo 'Error: boom' >&2; exit 3"])
    except measure.CommandFailed as e:
        assert e.code == 3 and e.reason == "Error: boom"
    else:
        raise AssertionError("no CommandFailed")


def test_collapsed_stacks_summary():
    text = ("process 1;thread 2;main (d.py:1);serve (s.py:9);handle (h.py:3) 30\n"
            "process 1;thread 2;main (d.py:1);serve (s.py:9) 10\n"
            "garbage line\n")
    own, incl, total = profile.summarize_collapsed(text)
    assert total == 40
    assert own[0] == ("handle (h.py:3)", 30)
    assert dict(incl)["serve (s.py:9)"] == 40


def test_api_log_lines_map_to_cli_steps():
    text = ("2026-12-03 16:40:28,617 DEBUG dockyard.api: POST /v1.43/containers/create?name=x 20.5ms\n"
            "2026-12-03 16:40:28,617 DEBUG dockyard.api: POST /v1.43/containers/x/start 115.4ms\n"
            "2026-12-03 16:40:28,893 DEBUG dockyard.api: POST /v1.43/containers/x/wait?condition=not-running 0.1ms\n"
            "2026-12-03 16:40:29,425 DEBUG dockyard.api: DELETE /v1.43/containers/x?force=0&v=0 97.3ms\n"
            "2026-12-03 16:40:29,771 DEBUG dockyard.api: GET /v1.43/containers/json?all=1 0.1ms\n")
    assert phases.parse_api_log(text) == {"create": [20.5], "start": [115.4], "wait": [0.1],
                                          "rm": [97.3]}
