from dockyard.cli.output import format_rows, format_template, human_duration, human_size, table


def test_human_size_matches_docker_units():
    assert human_size(641_600_000) == "641.6MB"
    assert human_size(2_300_000) == "2.3MB"
    assert human_size(999) == "999B"
    assert human_size(1_234) == "1.234kB"


def test_human_duration():
    assert human_duration(0.2) == "Less than a second"
    assert human_duration(3) == "3 seconds"
    assert human_duration(90) == "About a minute"
    assert human_duration(11 * 60) == "11 minutes"
    assert human_duration(2 * 86400) == "2 days"


def test_template_fields_and_functions():
    obj = {"Repository": "node", "Tag": "latest", "Labels": {"a": "b"}, "Names": ["x", "y"]}
    assert format_template("{{.Repository}}:{{.Tag}}", obj) == "node:latest"
    assert format_template('{{index .Labels "a"}}', obj) == "b"
    assert format_template('{{join .Names ","}}', obj) == "x,y"
    assert format_template("{{json .Labels}}", obj) == '{"a":"b"}'
    assert format_template("{{.Missing}}", obj) == "<no value>"


def test_table_format_has_headers():
    out = format_rows("table {{.ID}}\t{{.Repository}}", [{"ID": "abc", "Repository": "node"}],
                      {"ID": "IMAGE ID"})
    assert out.splitlines()[0].split() == ["IMAGE", "ID", "REPOSITORY"]
    assert out.splitlines()[1].split() == ["abc", "node"]


def test_table_pads_columns():
    out = table([["a", "bb"]], ["X", "Y"])
    assert out.splitlines() == ["X         Y", "a         bb"]
    wide = table([["busybox", "latest", "69bdb05d9fe5"]], ["REPOSITORY", "TAG", "IMAGE ID"])
    assert wide.splitlines()[1] == "busybox      latest    69bdb05d9fe5"
