import io

from siamtrack.app.progress import Progress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_with_total():
    stream = FakeTerminal()
    progress = Progress(10, stream=stream)
    for _ in range(4):
        progress.update()
    progress.close()
    text = stream.getvalue()
    assert "4/10" in text and "fps" in text and "ETA" in text and text.endswith("\n")


def test_live_progress_has_no_eta():
    stream = FakeTerminal()
    progress = Progress(None, stream=stream)
    progress.update("dropped 3")
    progress.close()
    assert "1 frames" in stream.getvalue() and "ETA" not in stream.getvalue()


def test_disabled_when_not_a_terminal_or_quiet():
    assert not Progress.wanted(quiet=False, stream=io.StringIO())
    assert not Progress.wanted(quiet=True, stream=FakeTerminal())
    assert Progress.wanted(quiet=False, stream=FakeTerminal())
    stream = FakeTerminal()
    progress = Progress(5, enabled=False, stream=stream)
    progress.update()
    progress.close()
    assert stream.getvalue() == "" and progress.done == 1
