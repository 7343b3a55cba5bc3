"""Progress bars (tqdm on stderr): drawn when asked or on a terminal, silent otherwise."""

from emorec._progress import progress, progress_bytes


def test_a_bar_asked_for_counts_every_item_on_stderr(capsys):
    assert list(progress(iter(range(5)), 5, "reading faces", "image", enabled=True)) == [*range(5)]
    err = capsys.readouterr().err
    assert "reading faces" in err and "5/5" in err and "image" in err


def test_no_bar_off_a_terminal_unless_asked(capsys):
    assert list(progress(range(3), 3, "reading", "image")) == [0, 1, 2]  # stderr is captured
    assert list(progress(range(3), 3, "reading", "image", enabled=False)) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_a_byte_bar_scales_its_unit(capsys):
    with progress_bytes(3 * 1024 * 1024, "downloading", enabled=True) as bar:
        for _ in range(3):
            bar.update(1024 * 1024)
    err = capsys.readouterr().err
    assert "downloading" in err and "3.00M" in err
