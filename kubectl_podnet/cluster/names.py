"""Input checked where it is typed: names and image references, by the API's own rules. Pure.

A bad pod name would otherwise reach the API server and come back as "not found", a bad
namespace or image would be printed into manifests or applied to the shared agent; each is
refused here in one line naming the value and the rule (exit 2).
"""

from __future__ import annotations

import re

from kubectl_podnet.errors import UsageError

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(rf"^{_LABEL}$")
_DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")

# The distribution/reference grammar (what the kubelet's InvalidImageName applies):
#   [domain[:port]/]path-component[/path-component...][:tag][@algorithm:hex]
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?$"
)
_NAME_MAX = 255


def _subdomain(value: str, what: str) -> str:
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise UsageError(
            f"{what} {value!r} is not valid: a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters)"
        )
    return value


def pod_name(value: str) -> str:
    return _subdomain(value, "pod name")


def pod_argument(text: str) -> str:
    """A pod as the command line names it, `NAME` or kubectl's `pod/NAME`, checked."""
    return pod_name(text.split("/", 1)[1] if text.startswith(("pod/", "pods/")) else text)


def node_name(value: str, option: str = "--node") -> str:
    return _subdomain(value, f"{option} (a node name)")


def namespace(value: str, option: str = "-n") -> str:
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise UsageError(
            f"{option} {value!r} is not a valid namespace: a DNS-1123 label (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        )
    return value


def image_reference(value: str, option: str = "--agent-image") -> str:
    name = value.split("@", 1)[0].rsplit(":", 1)[0] if "/" not in value.rsplit(":", 1)[-1] else value
    if not _REFERENCE.match(value) or len(name) > _NAME_MAX:
        raise UsageError(
            f"{option} {value!r} is not a valid image reference: [registry[:port]/]path[:tag][@sha256:digest], "
            "the path in lowercase letters, digits and separators ('.', '_', '__', '-')"
        )
    return value
