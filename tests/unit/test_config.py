"""The agent's settings: flag > environment > config file > default, each naming its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_podnet.cli.config import Setting, agent_settings, config_path
from kubectl_podnet.errors import UsageError


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "xdg"), **extra}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xdg" / "kubectl-podnet" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_nothing_set_anywhere_leaves_both_to_the_defaults(tmp_path: Path) -> None:
    settings = agent_settings(None, None, _env(tmp_path))
    assert settings.image is None and settings.namespace is None


def test_the_file_in_the_xdg_config_dir_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "agentImage: mirror.example/python:3.12-slim\nagentNamespace: tools\n")
    settings = agent_settings(None, None, _env(tmp_path))
    assert settings.image == Setting("mirror.example/python:3.12-slim", f"{path}: agentImage")
    assert settings.namespace == Setting("tools", f"{path}: agentNamespace")


def test_without_xdg_the_file_is_under_home_dot_config(tmp_path: Path) -> None:
    assert config_path({"HOME": "/home/u"}) == Path("/home/u/.config/kubectl-podnet/config.yaml")


def test_environment_beats_the_file_and_the_flag_beats_both(tmp_path: Path) -> None:
    _write(tmp_path, "agentImage: from-file\nagentNamespace: file-ns\n")
    env = _env(tmp_path, PODNET_AGENT_IMAGE="from-env", PODNET_AGENT_NAMESPACE="env-ns")
    settings = agent_settings(None, None, env)
    assert settings.image == Setting("from-env", "PODNET_AGENT_IMAGE")
    assert settings.namespace == Setting("env-ns", "PODNET_AGENT_NAMESPACE")
    settings = agent_settings("from-flag", "flag-ns", env)
    assert settings.image == Setting("from-flag", "--agent-image")
    assert settings.namespace == Setting("flag-ns", "--agent-namespace")


def test_each_setting_falls_through_on_its_own(tmp_path: Path) -> None:
    path = _write(tmp_path, "agentNamespace: file-ns\n")
    settings = agent_settings(None, None, _env(tmp_path, PODNET_AGENT_IMAGE="from-env"))
    assert settings.image == Setting("from-env", "PODNET_AGENT_IMAGE")
    assert settings.namespace == Setting("file-ns", f"{path}: agentNamespace")


def test_podnet_config_names_another_file_and_it_must_exist(tmp_path: Path) -> None:
    other = tmp_path / "team.yaml"
    other.write_text("agentImage: team-mirror/python:3.12\n")
    assert agent_settings(None, None, _env(tmp_path, PODNET_CONFIG=str(other))).image == Setting(
        "team-mirror/python:3.12", f"{other}: agentImage")
    with pytest.raises(UsageError, match="does not exist"):
        agent_settings(None, None, _env(tmp_path, PODNET_CONFIG=str(tmp_path / "missing.yaml")))


def test_flags_for_both_never_read_the_file(tmp_path: Path) -> None:
    _write(tmp_path, ": not yaml [")
    assert agent_settings("img", "ns", _env(tmp_path)).namespace == Setting("ns", "--agent-namespace")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agentImage: [1, 2]\n", "agentImage must be a non-empty string"),
        ("agentImag: typo\n", "unknown key 'agentImag' (known: agentImage, agentNamespace)"),
        ("- a list\n", "must be a mapping of agentImage, agentNamespace"),
        ("agentImage: 'x\n", "is not valid YAML"),
        ("agentNamespace: ''\n", "agentNamespace must be a non-empty string"),
    ],
)
def test_a_bad_file_is_one_clear_usage_error_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        agent_settings(None, None, _env(tmp_path))
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_an_empty_file_sets_nothing(tmp_path: Path) -> None:
    _write(tmp_path, "# nothing yet\n")
    assert agent_settings(None, None, _env(tmp_path)).image is None
