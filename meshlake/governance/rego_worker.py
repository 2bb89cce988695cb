"""The Rego worker: a child process that evaluates custom governance rules with `regopy`, so a rule that runs too
long can be killed (rego-cpp cannot be interrupted inside the process) and one that crashes takes nothing else down.

Run as `python -I rego_worker.py` by `meshlake.governance.rego`, with the framing of
`meshlake.quality.regex_worker` (a 4-byte big-endian length, then JSON) on its stdin and on a copy of its stdout;
rego-cpp's own messages go to stderr. Requests and replies:

    {"op": "compile", "name": N, "module": TEXT}                → {"ok": true} | {"error": MSG, "offset": N | null}
    {"op": "input", "input": JSON TEXT}                          → {"ok": true}
    {"op": "eval", "name": N, "module": TEXT, "query": Q}        → {"result": VALUE | null} | {"error": MSG}

Its memory is not limited (rego-cpp's allocator, snmalloc, reserves a large address space when it starts, which
`RLIMIT_AS` refuses); the time budget bounds a rule that keeps allocating. This file imports nothing but the
standard library and `regopy`.
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
from typing import Any

_HEADER = struct.Struct(">I")
_MESSAGE = re.compile(r"\(errormsg \d+:([^)\n]*)")
_OFFSET = re.compile(r"\(error \d+:[^|\s]*\|(\d+)\|")


def _problem(exc: BaseException) -> dict[str, Any]:
    text = str(exc)
    messages = _MESSAGE.findall(text)
    offset = _OFFSET.search(text)
    message = "; ".join(m.strip() for m in messages) or " ".join(text.split())[:300] or type(exc).__name__
    return {"error": message, "offset": int(offset.group(1)) if offset else None}


def _evaluate(interpreter_type: Any, prepared: Any, request: dict[str, Any]) -> dict[str, Any]:
    interpreter = interpreter_type()
    interpreter.strict_built_in_errors = True
    try:
        interpreter.add_module(request["name"], request["module"])
    except Exception as exc:
        return _problem(exc)
    if prepared is not None:
        interpreter.set_input(prepared)
    try:
        output = interpreter.query(request["query"])
    except Exception as exc:
        return {"error": f"the query failed: {_problem(exc)['error']}"}
    if not output.ok():
        return {
            "error": "the evaluation raised an error (a built-in error such as a division by zero or a bad "
            "conversion, or a complete rule with conflicting values)"
        }
    text = str(output)
    if text == "undefined":
        return {"result": None}
    value = json.loads(text)
    expressions = value.get("expressions") if isinstance(value, dict) else None
    return {"result": expressions[0] if expressions else None}


def serve() -> None:
    """Answer requests on stdin until it closes."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # rego-cpp prints its errors on stdout: keep them off the replies
    stdin = sys.stdin.buffer
    from regopy import Input, Interpreter

    prepared: Any = None
    while True:
        head = stdin.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        request = json.loads(stdin.read(_HEADER.unpack(head)[0]))
        try:
            if request["op"] == "input":
                prepared = Input(json.loads(request["input"]))
                reply: dict[str, Any] = {"ok": True}
            elif request["op"] == "compile":
                interpreter = Interpreter()
                try:
                    interpreter.add_module(request["name"], request["module"])
                    reply = {"ok": True}
                except Exception as exc:
                    reply = _problem(exc)
            else:
                reply = _evaluate(Interpreter, prepared, request)
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
        body = json.dumps(reply).encode()
        replies.write(_HEADER.pack(len(body)) + body)
        replies.flush()


if __name__ == "__main__":
    serve()
