"""Settings: HANGAR_* variables, .env, the data directory, and errors that name the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from comfyhangar.server.settings import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HANGAR_DATA_DIR", "HANGAR_DATABASE_URL", "HANGAR_RUNPOD_API_KEY", "HANGAR_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_data_dir_defaults_under_xdg_data_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    settings = load_settings()
    assert settings.data_dir == tmp_path / "xdg" / "comfyhangar"
    assert settings.effective_database_url == (
        f"sqlite+aiosqlite:///{tmp_path / 'xdg' / 'comfyhangar' / 'hangar.db'}"
    )


def test_data_dir_falls_back_to_local_share(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings().data_dir == tmp_path / ".local" / "share" / "comfyhangar"


def test_hangar_data_dir_moves_everything(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HANGAR_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = load_settings()
    assert settings.data_dir == tmp_path / "elsewhere"
    assert str(tmp_path / "elsewhere" / "hangar.db") in settings.effective_database_url


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HANGAR_PORT=9001\nHANGAR_RUNPOD_API_KEY=rpa_from_dotenv\n")
    settings = load_settings()
    assert settings.port == 9001
    assert settings.simulated is False


def test_no_key_means_simulated_cloud() -> None:
    assert load_settings().simulated is True
    assert load_settings(runpod_api_key="   ").simulated is True


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HANGAR_PORT", "eighty"),
        ("HANGAR_PORT", "70000"),
        ("HANGAR_DATABASE_URL", "mysql://root@localhost/hangar"),
        ("HANGAR_RUNPOD_API_URL", "api.runpod.io/v2"),
        ("HANGAR_LOG_LEVEL", "loud"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_key_never_shows_in_repr() -> None:
    settings = Settings(runpod_api_key="rpa_SECRET_VALUE")  # type: ignore[arg-type]
    assert "rpa_SECRET_VALUE" not in repr(settings)
    assert "rpa_SECRET_VALUE" not in str(settings.model_dump())


def test_bad_value_stops_the_cli_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "comfyhangar", "serve"],
        env={"HANGAR_PORT": "not-a-port", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "HANGAR_PORT" in result.stderr
    assert "Traceback" not in result.stderr
