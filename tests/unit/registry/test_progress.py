"""Progress messages and their rendering, compared with docker's own output."""
import io

import pytest

from dockyard.cli.progress import Renderer, StreamError, render
from dockyard.registry import progress


def test_human_size_like_docker():
    assert progress.human_size(6079000) == "6.079MB"
    assert progress.human_size(18540000) == "18.54MB"
    assert progress.human_size(999) == "999B"
    assert progress.human_size(2811000) == "2.811MB"


def test_bar_like_docker():
    assert progress.bar(2811000, 2811000) == "[" + "=" * 50 + ">] " + " 2.811MB/2.811MB"
    half = progress.bar(50, 100)
    assert half.startswith("[" + "=" * 25 + ">" + " " * 25 + "]")


def test_channel_throttles_byte_progress_but_keeps_the_last():
    ch = progress.Channel()
    for i in range(1, 101):
        ch.progress("Downloading", "abc", i, 100)
    ch.close()
    msgs = list(ch)
    assert 1 <= len(msgs) < 10 and msgs[-1]["progressDetail"] == {"current": 100, "total": 100}


def test_run_streaming_ends_with_error_message():
    def work(ch):
        ch.status("Pulling fs layer", "abc")
        raise RuntimeError("boom")
    msgs = list(progress.run_streaming(work))
    assert msgs[-1] == {"errorDetail": {"message": "boom"}, "error": "boom"}


def test_plain_output_skips_byte_progress():
    out = io.StringIO()
    msgs = [progress.status("Pulling from library/node", "latest"),
            progress.status("Pulling fs layer", "c49f83e0b13e"),
            progress.progress("Downloading", "c49f83e0b13e", 5, 10),
            progress.status("Pull complete", "c49f83e0b13e"),
            progress.status("Digest: sha256:abc")]
    render(msgs, out, tty=False)
    assert out.getvalue().splitlines() == [
        "latest: Pulling from library/node", "c49f83e0b13e: Pulling fs layer",
        "c49f83e0b13e: Pull complete", "Digest: sha256:abc"]


def test_tty_output_redraws_a_layer_line_in_place():
    out = io.StringIO()
    r = Renderer(out, tty=True)
    r.feed(progress.status("Pulling fs layer", "aaa"))
    r.feed(progress.status("Pulling fs layer", "bbb"))
    r.feed(progress.progress("Downloading", "aaa", 6079000, 18540000))
    text = out.getvalue()
    assert text.startswith("aaa: Pulling fs layer\nbbb: Pulling fs layer\n")
    assert "\x1b[2A\r\x1b[2K" + "aaa: Downloading [================>" in text
    assert text.endswith(" 6.079MB/18.54MB\x1b[2B\r")


def test_stream_error_raises_and_aux_is_returned():
    aux = render([{"status": "x"}, {"progressDetail": {}, "aux": {"Tag": "1"}}], io.StringIO(),
                 tty=False)
    assert aux == [{"Tag": "1"}]
    with pytest.raises(StreamError, match="bad thing"):
        render([progress.error("bad thing")], io.StringIO(), tty=False)


def test_closing_the_stream_stops_the_worker():
    import threading
    stopped = threading.Event()

    def work(ch):
        try:
            while True:
                ch.status("Downloading", "abc")
        except progress.Cancelled:
            stopped.set()
            raise
    stream = progress.run_streaming(work)
    assert next(stream)["status"] == "Downloading"
    stream.close()
    assert stopped.wait(10)
