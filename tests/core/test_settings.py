from pathlib import Path

import pytest
from pydantic import ValidationError

from tagora.settings import Settings


def test_development_mode_works_without_a_configured_secret(tmp_path: Path) -> None:
    assert Settings(env="development", home=tmp_path).secret_key.get_secret_value()


@pytest.mark.parametrize("env", ["test", "production"])
def test_a_missing_secret_is_refused_outside_development(env: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="TAGORA_SECRET_KEY"):
        Settings(env=env, home=tmp_path)


def test_settings_come_from_tagora_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAGORA_HOME", str(tmp_path))
    monkeypatch.setenv("TAGORA_ENV", "production")
    monkeypatch.setenv("TAGORA_SECRET_KEY", "a-real-secret-value")
    s = Settings()
    assert s.home == tmp_path
    assert s.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'tagora.db'}"
    assert s.resolved_warehouse_url == f"duckdb://{tmp_path.resolve() / 'warehouse.duckdb'}"
