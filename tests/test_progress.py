"""Progress bars: widgets in Jupyter, plain text when L2L_PROGRESS=text."""

import io

from tqdm import tqdm as text_tqdm

from l2l_helpers.course.progress import progress, text_mode


def test_text_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv("L2L_PROGRESS", "text")
    assert text_mode()
    monkeypatch.delenv("L2L_PROGRESS")
    assert not text_mode()


def test_text_mode_gives_a_plain_text_bar(monkeypatch):
    monkeypatch.setenv("L2L_PROGRESS", "text")
    bar = progress(range(3), file=io.StringIO())
    assert type(bar) is text_tqdm
    bar.close()


def test_progress_yields_every_item_and_passes_tqdm_options(monkeypatch):
    monkeypatch.setenv("L2L_PROGRESS", "text")
    out = io.StringIO()
    assert list(progress("abc", desc="letters", file=out)) == ["a", "b", "c"]
    assert "letters" in out.getvalue() and "3/3" in out.getvalue()
