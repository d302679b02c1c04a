"""Certificates and kubeconfigs for the one-node cluster, made with the openssl CLI.

openssl is on every Debian machine; Python's `cryptography` may not be, and
this tool takes no third-party dependency.  One CA signs everything; one RSA
key pair signs and verifies service-account tokens.
"""
from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path

from testbeds.localcluster import settings as S


@dataclass(frozen=True)
class CertSpec:
    name: str
    cn: str
    orgs: tuple[str, ...] = ()
    server: bool = False
    client: bool = True
    sans: tuple[str, ...] = ()


def cert_specs() -> list[CertSpec]:
    node_ip = S.NODE_IP
    return [
        CertSpec("apiserver", "kube-apiserver", server=True, client=False, sans=(
            "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
            "DNS:kubernetes.default.svc.cluster.local", "DNS:localhost",
            "IP:127.0.0.1", f"IP:{S.FIRST_SERVICE_IP}", f"IP:{node_ip}")),
        CertSpec("admin", "kubernetes-admin", orgs=("system:masters",)),
        CertSpec("controller-manager", "system:kube-controller-manager"),
        CertSpec("scheduler", "system:kube-scheduler"),
        CertSpec("kubelet", f"system:node:{S.NODE_NAME}", orgs=("system:nodes",)),
        CertSpec("kubelet-serving", S.NODE_NAME, server=True, client=False,
                 sans=(f"DNS:{S.NODE_NAME}", "DNS:localhost", "IP:127.0.0.1", f"IP:{node_ip}")),
        CertSpec("apiserver-kubelet-client", "kube-apiserver-kubelet-client"),
    ]


def _subject(spec: CertSpec) -> str:
    return "".join(f"/O={o}" for o in spec.orgs) + f"/CN={spec.cn}"


def extensions(spec: CertSpec) -> str:
    """Pure: the openssl extension file for one leaf certificate."""
    usages = (["serverAuth"] if spec.server else []) + (["clientAuth"] if spec.client else [])
    lines = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=" + ",".join(usages),
    ]
    if spec.sans:
        lines.append("subjectAltName=" + ",".join(spec.sans))
    return "\n".join(lines) + "\n"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def ensure_pki(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    if not (d / "ca.crt").exists():
        _openssl("req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-sha256", "-days", "3650",
                 "-subj", f"/CN={S.CLUSTER_NAME}-ca", "-keyout", str(d / "ca.key"), "-out", str(d / "ca.crt"),
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
    if not (d / "sa.key").exists():
        _openssl("genrsa", "-out", str(d / "sa.key"), "2048")
        _openssl("rsa", "-in", str(d / "sa.key"), "-pubout", "-out", str(d / "sa.pub"))
    for spec in cert_specs():
        crt, key = d / f"{spec.name}.crt", d / f"{spec.name}.key"
        if crt.exists():
            continue
        csr, ext = d / f"{spec.name}.csr", d / f"{spec.name}.ext"
        ext.write_text(extensions(spec))
        _openssl("req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", str(key),
                 "-subj", _subject(spec), "-out", str(csr))
        _openssl("x509", "-req", "-sha256", "-days", "365", "-in", str(csr), "-CA", str(d / "ca.crt"),
                 "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-extfile", str(ext), "-out", str(crt))
        csr.unlink()
        ext.unlink()


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def render_kubeconfig(server: str, user: str, ca: Path, crt: Path, key: Path) -> str:
    """Pure apart from reading the PEM files: a kubeconfig with embedded credentials."""
    return f"""apiVersion: v1
kind: Config
clusters:
- name: {S.CLUSTER_NAME}
  cluster:
    server: {server}
    certificate-authority-data: {_b64(ca)}
users:
- name: {user}
  user:
    client-certificate-data: {_b64(crt)}
    client-key-data: {_b64(key)}
contexts:
- name: {user}@{S.CLUSTER_NAME}
  context:
    cluster: {S.CLUSTER_NAME}
    user: {user}
current-context: {user}@{S.CLUSTER_NAME}
"""


KUBECONFIG_USERS = {"admin": "admin", "controller-manager": "controller-manager",
                    "scheduler": "scheduler", "kubelet": "kubelet"}


def kubeconfig_path(user: str) -> Path:
    return S.STATE_ROOT / "kubeconfig" / f"{user}.conf"


def ensure_kubeconfigs(pki: Path) -> None:
    server = f"https://127.0.0.1:{S.APISERVER_PORT}"
    for user, certname in KUBECONFIG_USERS.items():
        path = kubeconfig_path(user)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(render_kubeconfig(server, user, pki / "ca.crt",
                                              pki / f"{certname}.crt", pki / f"{certname}.key"))
            path.chmod(0o600)
