"""The few lines the client runs in the agent pod with `python3 -c`, before any of our code.

Delivery decision: the agent pod runs a stock Python image; the agent code (this
package's node side plus pyroute2, pure Python) is sent over exec stdin as one
length-framed zip, checked against its sha256 and kept in the pod under that hash. A
run names the hash it wants: a warm pod runs it at once (one exec, nothing sent), a
cold one answers NEED_PAYLOAD and the client sends it once. The code on the node is
therefore always exactly the plugin's, and nobody builds or pushes an image.

A warm run then hands over to node/resident.py in the payload: the resident agent of
that digest answers over a unix socket (no Python start-up of the agent, no imports), or
the agent runs inline as it always did and a resident one is started for the next run.
The warm path imports only os and sys here (and the built-in time, for the stamp below);
the install path pays for zipfile & co.

Each run also stamps `last-used` in the cache dir (the time and the code's hash): the
cheapest record of use there is. It costs inspect no API call and no RBAC beyond the
exec it already makes, and `agent status` reads it back with one exec per agent pod
(LAST_USED). It lives as long as the agent pod, as the cache does.
"""

from __future__ import annotations

import hashlib

from kubectl_podnet.cluster.manifests import CACHE_DIR
from kubectl_podnet.envelope import RESULT_KIND
from kubectl_podnet.errors import AgentError, ExitStatus, UsageError
from kubectl_podnet.model import API_VERSION

NEED_PAYLOAD = 64
BAD_PAYLOAD = 65
FRAME_MAGIC = b"PODNET1"
LAST_USED_FILE = "last-used"  # in the cache dir: "EPOCH DIGEST" of the latest run

# The script cannot import our constants (it runs before our code is there), so it is
# generated with them: each is assigned once at its top, and the body uses the names.
_CONSTANTS: dict[str, object] = {
    "NEED_PAYLOAD": NEED_PAYLOAD,
    "BAD_PAYLOAD": BAD_PAYLOAD,
    "USAGE": int(ExitStatus.USAGE),
    "FRAME_MAGIC": FRAME_MAGIC,
    "API_VERSION": API_VERSION,
    "RESULT_KIND": RESULT_KIND,
    "USAGE_ERROR": UsageError.__name__,
    "AGENT_ERROR": AgentError.__name__,
    "CACHE_DIR": CACHE_DIR,
    "DIGEST_HEX": 2 * hashlib.sha256().digest_size,
    "LAST_USED_FILE": LAST_USED_FILE,
}

BODY = r"""import os, sys
digest, mode, request = sys.argv[1], sys.argv[2], sys.argv[3]
deadline = float(sys.argv[4])
cache = os.environ.get("PODNET_CACHE", CACHE_DIR)
home = os.path.join(cache, digest)

def say(code, **extra):
    import json
    print(json.dumps({"apiVersion": API_VERSION, "kind": RESULT_KIND, "exitCode": code, **extra}))
    sys.exit(code)

if len(digest) != DIGEST_HEX or digest.strip("0123456789abcdef"):
    say(USAGE, error={"kind": USAGE_ERROR, "message": "the payload digest is not a sha256"})

try:  # when this agent was last used: a stamp, never a reason to fail the run
    import time
    with open(os.path.join(cache, ".%s.%d" % (LAST_USED_FILE, os.getpid())), "w") as stamp:
        stamp.write("%d %s\n" % (time.time(), digest))
    os.replace(stamp.name, os.path.join(cache, LAST_USED_FILE))
except OSError:
    pass

if mode == "install":
    # Always read the whole frame, even when another exec installed this digest meanwhile:
    # a sender whose stdin nobody reads blocks, and its exec never ends.
    import hashlib, io, zipfile
    header = sys.stdin.buffer.readline().split()
    if len(header) != 2 or header[0] != FRAME_MAGIC:
        say(BAD_PAYLOAD, error={"kind": AGENT_ERROR, "message": "payload frame header missing"})
    size, chunks = int(header[1]), []
    while size > 0:
        chunk = sys.stdin.buffer.read(min(size, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    data = b"".join(chunks)
    if size or hashlib.sha256(data).hexdigest() != digest:
        say(BAD_PAYLOAD, error={"kind": AGENT_ERROR, "message": "payload truncated or corrupted in transit"})
    if not os.path.isdir(home):
        staging = home + ".part-" + str(os.getpid())
        zipfile.ZipFile(io.BytesIO(data)).extractall(staging)
        import compileall  # once per version, so no run compiles the agent again
        compileall.compile_dir(staging, quiet=2)
        try:
            os.rename(staging, home)
        except OSError:  # another exec installed it first
            import shutil
            shutil.rmtree(staging, ignore_errors=True)
elif not os.path.isdir(home):
    say(NEED_PAYLOAD, needPayload=True)
sys.path.insert(0, home)
# the resident agent of this digest answers, or the agent runs here and starts one
from kubectl_podnet.node.resident import run
sys.exit(run(home, digest, request, deadline))
"""


def _generated(body: str) -> str:
    return "".join(f"{name} = {value!r}\n" for name, value in _CONSTANTS.items()) + body


SCRIPT = _generated(BODY)

# `agent status`: the stamp the last run left, or "never" (the cache lives as long as the pod)
LAST_USED_BODY = r"""import os
try:
    print(open(os.path.join(os.environ.get("PODNET_CACHE", CACHE_DIR), LAST_USED_FILE)).read().strip())
except OSError:
    print("never")
"""
LAST_USED = _generated(LAST_USED_BODY)


def command(digest: str, mode: str, request_json: str, deadline: float) -> list[str]:
    """The exec argv; `deadline` (seconds) bounds the resident agent's work and its wait for it.

    -I -S: none of the image's site-packages or PYTHON* settings, only the sent payload
    (and no site start-up to pay on every exec)."""
    return ["python3", "-I", "-S", "-c", SCRIPT, digest, mode, request_json, f"{deadline:g}"]


def last_used_command() -> list[str]:
    return ["python3", "-I", "-S", "-c", LAST_USED]


def frame(payload: bytes) -> bytes:
    return FRAME_MAGIC + b" " + str(len(payload)).encode() + b"\n" + payload
