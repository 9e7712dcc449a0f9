"""What a sandboxed child may send the runner: JSON and plain numeric arrays, nothing else.

A pickle from the child would run code of the child's choosing in the runner when loaded
(``__reduce__``), which is every label and the tracking store: a way out of any sandbox.
So messages from the child are an ``.npz`` archive read with ``allow_pickle=False``: the
arrays it holds, and one JSON document for everything else. A message that does not
decode is the child's failure, never the runner's.
"""

from __future__ import annotations

import io
import json
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

MAX_BYTES = 1 << 31  # a test-node prediction matrix of an OGB graph fits with room to spare
DOC = "__json__"
ARRAY = "__array__"


class WireError(ValueError):
    """A message from a child that is not what the protocol allows."""


def pack(message: dict[str, Any]) -> bytes:
    """``message`` with its numpy arrays (top-level values only) stored as arrays."""
    arrays = {k: np.ascontiguousarray(v) for k, v in message.items() if isinstance(v, np.ndarray)}
    doc = {k: ({ARRAY: k} if k in arrays else v) for k, v in message.items()}
    buf = io.BytesIO()
    text = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
    entries: dict[str, Any] = {DOC: text, **arrays}
    np.savez(buf, **entries)
    return buf.getvalue()


def unpack(data: bytes) -> dict[str, Any]:
    """The message in ``data``; :class:`WireError` for anything that is not a packed dict of
    JSON values and numeric arrays."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            doc = json.loads(archive[DOC].tobytes().decode())
            if not isinstance(doc, dict):
                raise WireError("a message must be a JSON object")
            out: dict[str, Any] = {}
            for key, value in doc.items():
                if isinstance(value, dict) and set(value) == {ARRAY}:
                    array = archive[str(value[ARRAY])]
                    if array.dtype.kind not in "biuf":
                        raise WireError(f"{key}: arrays must be numeric, not {array.dtype}")
                    out[key] = array
                else:
                    out[key] = value
            return out
    except WireError:
        raise
    except Exception as err:  # whatever a malformed archive raises while it is read
        raise WireError(f"unreadable message ({type(err).__name__}: {err})") from None


def send(conn: Connection, message: dict[str, Any]) -> None:
    conn.send_bytes(pack(message))


def receive(conn: Connection) -> dict[str, Any]:
    """The next message on ``conn``; EOFError/OSError when the child is gone."""
    return unpack(conn.recv_bytes(MAX_BYTES))
