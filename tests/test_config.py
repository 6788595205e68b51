"""Settings from QA_* variables: a malformed value is named in a one-line error."""

import pytest
from click.testing import CliRunner

from qa import InvalidInput, config
from qa.cli import cli


@pytest.mark.parametrize(("name", "value"), [
    ("QA_MAX_TEXT_MB", "inf"), ("QA_MAX_TEXT_MB", "abc"), ("QA_MAX_TEXT_MB", "-3"), ("QA_MAX_TEXT_MB", "nan"),
    ("QA_READ_TIMEOUT", "1e300"), ("QA_READ_TIMEOUT", "0"), ("QA_READ_TIMEOUT", "soon"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidInput, match=rf"^\${name} must be .*, not '{value}'\.$"):
        config.max_text_bytes() if name == "QA_MAX_TEXT_MB" else config.read_timeout()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "note.txt").write_text("A note.")
    result = CliRunner().invoke(cli, ["index", str(tmp_path / "docs"), "--index-dir", str(tmp_path / "idx")])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: ${name} must be ") and result.output.count("\n") == 1
    assert not (tmp_path / "idx").exists()


def test_good_settings_are_read(monkeypatch):
    monkeypatch.setenv("QA_MAX_TEXT_MB", "0.5")
    monkeypatch.setenv("QA_READ_TIMEOUT", "7.5")
    assert config.max_text_bytes() == 2**19 and config.read_timeout() == 7.5
    monkeypatch.delenv("QA_MAX_TEXT_MB")
    monkeypatch.delenv("QA_READ_TIMEOUT")
    assert config.max_text_bytes() == config.MAX_TEXT_BYTES and config.read_timeout() == config.READ_TIMEOUT_S
