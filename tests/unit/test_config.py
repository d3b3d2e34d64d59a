"""Settings: defaults < TOML file < ONESTACK_* environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from onestack.config import ConfigError, Settings, default_data_dir, load_settings


def write_toml(directory: Path, text: str, name: str = "onestack.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


class TestDefaults:
    def test_values(self, tmp_path: Path) -> None:
        s = load_settings(tmp_path, environ={})
        assert s.data_dir == tmp_path
        assert s.server.host == "127.0.0.1"
        assert s.server.port == 8770
        assert s.server.max_body_bytes == 1024 * 1024
        assert s.database.url == ""
        assert s.database.echo is False
        assert s.bus.driver == "memory"
        assert s.identity.token_expiration == 3600
        assert s.identity.password_hash_rounds == 12
        assert s.identity.max_active_keys == 3
        assert s.identity.region == "RegionOne"
        assert s.policy.file == ""
        assert s.logging.level == "INFO"

    def test_database_url_is_sqlite_in_data_dir(self, tmp_path: Path) -> None:
        s = load_settings(tmp_path, environ={})
        assert s.database_url == f"sqlite+aiosqlite:///{tmp_path}/onestack.db"
        assert s.database_url.startswith("sqlite+aiosqlite:////")  # absolute path

    def test_database_url_when_set(self, tmp_path: Path) -> None:
        url = "postgresql+asyncpg://u:p@db/onestack"
        s = load_settings(tmp_path, environ={"ONESTACK_DATABASE_URL": url})
        assert s.database_url == url

    def test_public_url_default(self, tmp_path: Path) -> None:
        assert load_settings(tmp_path, environ={}).public_url == "http://127.0.0.1:8770"

    def test_default_data_dir_follows_xdg(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert default_data_dir() == tmp_path / "xdg" / "onestack"
        monkeypatch.delenv("XDG_DATA_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "onestack"

    def test_data_dir_default_and_env(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert load_settings(environ={}).data_dir == tmp_path / "xdg" / "onestack"
        env = {"ONESTACK_DATA_DIR": str(tmp_path / "elsewhere")}
        assert load_settings(environ=env).data_dir == tmp_path / "elsewhere"
        # An explicit directory (the --data-dir flag) beats the environment.
        assert load_settings(tmp_path / "flag", environ=env).data_dir == tmp_path / "flag"

    def test_data_dir_expands_home(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HOME", str(tmp_path))
        assert load_settings("~/state", environ={}).data_dir == tmp_path / "state"

    def test_settings_constructed_directly(self) -> None:
        assert Settings().server.port == 8770


class TestFile:
    def test_values_from_data_dir_file(self, tmp_path: Path) -> None:
        write_toml(
            tmp_path,
            '[server]\nhost = "0.0.0.0"\nport = 9000\n'
            "[identity]\ntoken_expiration = 600\nrevocation_refresh = 0.5\n"
            '[logging]\nformat = "json"\n',
        )
        s = load_settings(tmp_path, environ={})
        assert s.server.host == "0.0.0.0"
        assert s.server.port == 9000
        assert s.identity.token_expiration == 600
        assert s.identity.revocation_refresh == 0.5
        assert s.logging.format == "json"
        # Untouched options keep their defaults.
        assert s.identity.max_active_keys == 3
        assert s.server.max_body_bytes == 1024 * 1024

    def test_explicit_config_file(self, tmp_path: Path) -> None:
        write_toml(tmp_path, "[server]\nport = 1111\n")  # ignored: another file is named
        other = write_toml(tmp_path / "etc", "[server]\nport = 2222\n", "custom.toml")
        assert load_settings(tmp_path, other, environ={}).server.port == 2222

    def test_config_file_from_environment(self, tmp_path: Path) -> None:
        other = write_toml(tmp_path / "etc", "[server]\nport = 3333\n", "custom.toml")
        s = load_settings(tmp_path, environ={"ONESTACK_CONFIG": str(other)})
        assert s.server.port == 3333

    def test_missing_file_means_defaults(self, tmp_path: Path) -> None:
        s = load_settings(tmp_path, tmp_path / "nope.toml", environ={})
        assert s.server.port == 8770

    def test_file_cannot_move_data_dir(self, tmp_path: Path) -> None:
        write_toml(tmp_path, 'data_dir = "/somewhere/else"\n')
        assert load_settings(tmp_path, environ={}).data_dir == tmp_path

    def test_invalid_toml(self, tmp_path: Path) -> None:
        write_toml(tmp_path, "[server\nport = 1\n")
        with pytest.raises(ConfigError, match=r"onestack\.toml"):
            load_settings(tmp_path, environ={})

    @pytest.mark.parametrize(
        "text",
        [
            '[server]\nport = "not a number"\n',
            "[server]\nport = 0\n",
            "[server]\nport = 70000\n",
            "[server]\nprot = 9000\n",  # misspelt option
            "[sever]\nport = 9000\n",  # misspelt group
            "[identity]\npassword_hash_rounds = 3\n",
            "[identity]\ntoken_expiration = 59\n",
            "[identity]\nmax_active_keys = 1\n",
            "server = 5\n",
        ],
    )
    def test_invalid_values(self, tmp_path: Path, text: str) -> None:
        write_toml(tmp_path, text)
        with pytest.raises(ConfigError):
            load_settings(tmp_path, environ={})


class TestEnvironment:
    def test_env_overrides_file(self, tmp_path: Path) -> None:
        write_toml(tmp_path, '[server]\nport = 9000\nhost = "10.0.0.1"\n')
        s = load_settings(tmp_path, environ={"ONESTACK_SERVER_PORT": "9100"})
        assert s.server.port == 9100
        assert s.server.host == "10.0.0.1"  # from the file still

    def test_type_coercion(self, tmp_path: Path) -> None:
        env = {
            "ONESTACK_SERVER_PORT": "8080",
            "ONESTACK_DATABASE_ECHO": "true",
            "ONESTACK_DATABASE_POOL_SIZE": "3",
            "ONESTACK_IDENTITY_REVOCATION_REFRESH": "0.25",
            "ONESTACK_IDENTITY_PASSWORD_HASH_ROUNDS": "4",
            "ONESTACK_IDENTITY_REGION": "RegionTwo",
            "ONESTACK_POLICY_FILE": "/etc/onestack/policy.yaml",
        }
        s = load_settings(tmp_path, environ=env)
        assert s.server.port == 8080
        assert s.database.echo is True
        assert s.database.pool_size == 3
        assert s.identity.revocation_refresh == 0.25
        assert s.identity.password_hash_rounds == 4
        assert s.identity.region == "RegionTwo"
        assert s.policy.file == "/etc/onestack/policy.yaml"

    @pytest.mark.parametrize(("text", "value"), [("1", True), ("false", False), ("0", False)])
    def test_boolean_spellings(self, tmp_path: Path, text: str, value: bool) -> None:
        s = load_settings(tmp_path, environ={"ONESTACK_DATABASE_ECHO": text})
        assert s.database.echo is value

    @pytest.mark.parametrize(
        "env",
        [
            {"ONESTACK_SERVER_PORT": "eighty"},
            {"ONESTACK_SERVER_PORT": "0"},
            {"ONESTACK_DATABASE_ECHO": "maybe"},
            {"ONESTACK_IDENTITY_TOKEN_EXPIRATION": "10"},
            {"ONESTACK_IDENTITY_REVOCATION_REFRESH": "soon"},
        ],
    )
    def test_invalid_values(self, tmp_path: Path, env: dict[str, str]) -> None:
        with pytest.raises(ConfigError):
            load_settings(tmp_path, environ=env)

    def test_error_names_the_option(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="port"):
            load_settings(tmp_path, environ={"ONESTACK_SERVER_PORT": "eighty"})

    def test_unknown_variables_are_ignored(self, tmp_path: Path) -> None:
        env = {"ONESTACK_SERVER_COLOUR": "blue", "ONESTACK_NOPE": "1", "OTHER_SERVER_PORT": "1"}
        assert load_settings(tmp_path, environ=env).server.port == 8770

    def test_lowercase_variables_are_ignored(self, tmp_path: Path) -> None:
        assert load_settings(tmp_path, environ={"onestack_server_port": "1"}).server.port == 8770

    def test_process_environment_by_default(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ONESTACK_SERVER_PORT", "8123")
        assert load_settings(tmp_path).server.port == 8123


class TestFlags:
    def test_flags_beat_environment_and_file(self, tmp_path: Path) -> None:
        write_toml(tmp_path, "[server]\nport = 9000\n")
        s = load_settings(
            tmp_path,
            environ={"ONESTACK_SERVER_PORT": "9100", "ONESTACK_SERVER_HOST": "10.1.1.1"},
            overrides={"server": {"port": 9200}},
        )
        assert s.server.port == 9200
        assert s.server.host == "10.1.1.1"  # merged per option, not per group

    def test_invalid_flag(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError):
            load_settings(tmp_path, environ={}, overrides={"server": {"port": -1}})

    def test_assignment_is_validated(self, tmp_path: Path) -> None:
        s = load_settings(tmp_path, environ={})
        with pytest.raises(ValueError):
            s.server.port = 0  # type: ignore[assignment]


class TestPublicUrl:
    @pytest.mark.parametrize(
        ("host", "url"),
        [
            ("127.0.0.1", "http://127.0.0.1:8770"),
            ("0.0.0.0", "http://127.0.0.1:8770"),
            ("::", "http://127.0.0.1:8770"),
            ("::1", "http://[::1]:8770"),
            ("fd00::10", "http://[fd00::10]:8770"),
            ("cloud.example.com", "http://cloud.example.com:8770"),
        ],
    )
    def test_from_host(self, tmp_path: Path, host: str, url: str) -> None:
        s = load_settings(tmp_path, environ={"ONESTACK_SERVER_HOST": host})
        assert s.public_url == url

    def test_port_follows(self, tmp_path: Path) -> None:
        env = {"ONESTACK_SERVER_HOST": "0.0.0.0", "ONESTACK_SERVER_PORT": "9999"}
        assert load_settings(tmp_path, environ=env).public_url == "http://127.0.0.1:9999"

    def test_explicit_public_url_wins_without_trailing_slash(self, tmp_path: Path) -> None:
        env = {"ONESTACK_SERVER_PUBLIC_URL": "https://cloud.example.com/"}
        assert load_settings(tmp_path, environ=env).public_url == "https://cloud.example.com"
