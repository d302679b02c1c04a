"""The agent's settings, set once: a flag, else an environment variable, else a config file.

An air-gapped team points the agent image at its mirror once, in the environment of its
CI jobs (`PODNET_AGENT_IMAGE`, `PODNET_AGENT_NAMESPACE`) or in a small YAML file in the
user's config directory, instead of on every command:

    # $XDG_CONFIG_HOME/kubectl-podnet/config.yaml (default ~/.config/...; PODNET_CONFIG names another)
    agentImage: mirror.example/library/python:3.12-slim
    agentNamespace: podnet-system

Precedence: flag > environment > file > built-in default. Each value remembers where it
came from, so a bad one is refused naming its source. Pure but for reading the file:
the caller hands in the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kubectl_podnet.errors import UsageError

ENV_IMAGE = "PODNET_AGENT_IMAGE"
ENV_NAMESPACE = "PODNET_AGENT_NAMESPACE"
ENV_CONFIG = "PODNET_CONFIG"
FILE_KEYS = {"agentImage": "image", "agentNamespace": "namespace"}


@dataclass(frozen=True)
class Setting:
    value: str
    source: str  # "--agent-image", "PODNET_AGENT_IMAGE", "/home/u/.config/kubectl-podnet/config.yaml: agentImage"


@dataclass(frozen=True)
class AgentSettings:
    image: Setting | None  # None: nobody chose one (the installed agent's, else the default)
    namespace: Setting | None  # None: the default namespace


def config_path(env: Mapping[str, str]) -> Path:
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return Path(base) / "kubectl-podnet" / "config.yaml"


def read_config(path: Path, required: bool) -> dict[str, Setting]:
    """The file's settings by field ("image", "namespace"); a missing file is empty unless named."""
    import yaml

    try:
        text = path.read_text()
    except FileNotFoundError:
        if required:
            raise UsageError(f"config file {path} (named by {ENV_CONFIG}) does not exist") from None
        return {}
    except OSError as exc:
        raise UsageError(f"config file {path}: cannot read it: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"config file {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"config file {path} must be a mapping of {', '.join(FILE_KEYS)}")
    unknown = sorted(str(key) for key in data if key not in FILE_KEYS)
    if unknown:
        raise UsageError(f"config file {path}: unknown key {unknown[0]!r} (known: {', '.join(FILE_KEYS)})")
    found = {}
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"config file {path}: {key} must be a non-empty string")
        found[FILE_KEYS[key]] = Setting(value.strip(), f"{path}: {key}")
    return found


def agent_settings(flag_image: str | None, flag_namespace: str | None, env: Mapping[str, str]) -> AgentSettings:
    """Each setting from the first place that gives it: the flag, the environment, the file."""
    chosen: dict[str, Setting | None] = {}
    file_values: dict[str, Setting] | None = None
    for field, flag, flag_name, env_name in (("image", flag_image, "--agent-image", ENV_IMAGE),
                                             ("namespace", flag_namespace, "--agent-namespace", ENV_NAMESPACE)):
        if flag is not None:
            chosen[field] = Setting(flag, flag_name)
        elif env.get(env_name):
            chosen[field] = Setting(env[env_name], env_name)
        else:
            if file_values is None:  # read only when a flag and the environment leave a gap
                file_values = read_config(config_path(env), required=bool(env.get(ENV_CONFIG)))
            chosen[field] = file_values.get(field)
    return AgentSettings(image=chosen["image"], namespace=chosen["namespace"])
