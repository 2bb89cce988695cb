"""The Rego worker: a child process that evaluates custom governance rules with `regopy`, so a rule that runs too
long can be killed (rego-cpp cannot be interrupted inside the process) and one that crashes takes nothing else down.

Run as `python -I rego_worker.py` by `meshlake.governance.rego`, with the framing of
`meshlake.quality.regex_worker` (a 4-byte big-endian length, then JSON) on its stdin and on a copy of its stdout;
rego-cpp's own messages go to stderr. Requests and replies:

    {"op": "compile", "name": N, "module": TEXT}                → {"ok": true} | {"error": MSG, "offset": N | null}
    {"op": "input", "input": JSON TEXT}                          → {"ok": true}
    {"op": "prepare", "modules": {NAME: TEXT}}                   → {"ok": true}
    {"op": "eval", "name": N, "module": TEXT, "query": Q}        → {"result": VALUE | null} | {"error": MSG}

`prepare` loads modules of distinct packages into one shared interpreter holding the input (handing the input to
an interpreter costs about as much as a simple rule); a rule whose module is there is queried there, any other
in an interpreter of its own.

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


_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][A-Za-z0-9_.]*)", re.MULTILINE)


def _shared(interpreter_type: Any, prepared: Any, modules: dict[str, str]) -> tuple[Any, set[str]]:
    """One interpreter with the input and every module whose package no other module declares."""
    interpreter = interpreter_type()
    interpreter.strict_built_in_errors = True
    if prepared is not None:
        interpreter.set_input(prepared)
    packages: dict[str, list[str]] = {}
    for source in set(modules.values()):
        match = _PACKAGE.search(source)
        packages.setdefault(match.group(1) if match else "", []).append(source)
    loaded: set[str] = set()
    for index, (package, sources) in enumerate(sorted(packages.items())):
        if len(sources) != 1 or not package:
            continue
        try:
            interpreter_type().add_module("check", sources[0])  # compiles alone first: a bad one stays out
            interpreter.add_module(f"m{index}", sources[0])
        except Exception:
            continue
        loaded.add(sources[0])
    return interpreter, loaded


def _evaluate(interpreter_type: Any, prepared: Any, request: dict[str, Any], shared: Any = None) -> dict[str, Any]:
    interpreter = shared
    if interpreter is None:
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
    shared: Any = None
    loaded: set[str] = set()
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
            elif request["op"] == "prepare":
                shared, loaded = _shared(Interpreter, prepared, request["modules"])
                reply = {"ok": True}
            else:
                use = shared if request["module"] in loaded else None
                reply = _evaluate(Interpreter, prepared, request, use)
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
        body = json.dumps(reply).encode()
        replies.write(_HEADER.pack(len(body)) + body)
        replies.flush()


if __name__ == "__main__":
    serve()
