"""Where a flow's code lives: the entrypoint (`path/to/file.py:function`) of a flow, and loading a flow
back from one — from a folder, or from a git repository cloned into `$HEADWATER_HOME/sources`."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater.flows import Flow
    from headwater.schemas.deployments import Deployment


class EntrypointError(Exception):
    """A flow could not be found at an entrypoint, or the flow's own entrypoint cannot be worked out."""


def flow_entrypoint(flow: Flow[..., Any], base: Path | None = None) -> tuple[str, str]:
    """`(path, entrypoint)` for a flow defined in a file: the folder the entrypoint is relative to
    (the current directory when the file is inside it, else the file's folder) and `file.py:function`."""
    try:
        source = Path(inspect.getfile(flow.fn)).resolve()
    except (TypeError, OSError):
        raise EntrypointError(
            f"Flow {flow.name!r} is not defined in a file (was it defined interactively?); "
            "deployments need a flow importable from a .py file."
        ) from None
    base = (base or Path.cwd()).resolve()
    if not source.is_relative_to(base):
        base = source.parent
    function = flow.fn.__qualname__
    if "<locals>" in function:
        raise EntrypointError(f"Flow {flow.name!r} is defined inside a function; define it at module level.")
    return str(base), f"{source.relative_to(base).as_posix()}:{function}"


def load_flow_from_entrypoint(path: str | Path, entrypoint: str) -> Flow[..., Any]:
    """Import `file.py:function` relative to `path` and return the flow it names.

    The file is imported as a module named after it (so `if __name__ == "__main__":` blocks do not
    run), with `path` first on `sys.path` so it can import its neighbours.
    """
    from headwater.flows import Flow

    file_part, sep, attribute = entrypoint.rpartition(":")
    if not sep or not file_part or not attribute:
        raise EntrypointError(f"Entrypoint {entrypoint!r} is not of the form 'path/to/file.py:function'.")
    folder = Path(path)
    file = (folder / file_part).resolve()
    if not file.is_file():
        raise EntrypointError(f"No file {file_part!r} in {str(folder)!r} (entrypoint {entrypoint!r}).")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    if str(file.parent) not in sys.path:
        sys.path.insert(0, str(file.parent))
    module_name = file.stem if file.stem not in sys.modules else f"headwater_entrypoint_{file.stem}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise EntrypointError(f"{file_part!r} has no {attribute!r} (entrypoint {entrypoint!r}).") from None
    if not isinstance(target, Flow):
        raise EntrypointError(f"{entrypoint!r} is not a flow (decorate {attribute!r} with @flow).")
    return target


def checkout_source(source: str) -> Path:
    """A local folder holding `source`: the folder itself, or a (cached, refreshed) clone of a git URL."""
    if Path(source).expanduser().is_dir() and not (Path(source) / ".git").is_dir() and not source.endswith(".git"):
        return Path(source).expanduser().resolve()
    from headwater.settings import get_settings

    target = get_settings().home / "sources" / hashlib.sha256(source.encode()).hexdigest()[:16]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        if (target / ".git").is_dir():
            subprocess.run(["git", "-C", str(target), "pull", "--ff-only", "-q"], check=True, env=env,
                           capture_output=True, timeout=300)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["git", "clone", "-q", "--depth", "1", source, str(target)], check=True, env=env,
                           capture_output=True, timeout=300)
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip() if exc.stderr else str(exc)
        raise EntrypointError(f"Could not fetch {source!r} with git: {detail}") from None
    return target


def load_flow_for_deployment(deployment: Deployment) -> Flow[..., Any]:
    """The flow a deployment runs, loaded from its source or path."""
    if deployment.source:
        folder = checkout_source(deployment.source)
    elif deployment.path:
        folder = Path(deployment.path)
    else:
        folder = Path.cwd()
    return load_flow_from_entrypoint(folder, deployment.entrypoint)
