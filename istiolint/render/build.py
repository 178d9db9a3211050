"""Run ``kustomize build`` (or ``kubectl kustomize``) the way a pull request cannot abuse.

Before a build, the kustomization graph is checked: a remote base or resource (a URL, a git
target, anything that is not a local file or directory) needs ``allow_remote``; a plugin
(a non-builtin generator, transformer or validator, a KRM function, Helm chart inflation)
needs ``allow_plugins``. Neither can be set from the repository's own configuration file, which
the pull request controls. As a second line, a build without ``allow_remote`` runs with proxies
pointing nowhere and git allowed only local transports, and plugins are only enabled on the
command line when allowed.

The build reads a throw-away kustomization in a temporary directory that adds
``buildMetadata: [originAnnotations]`` to the user's, so that every object says which file it
came from; nothing is written in the user's tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from istiolint.errors import UsageError
from istiolint.render.graph import Kustomization, KustomizationGraph

BUILD_TIMEOUT = 300  # seconds
_NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, nothing is fetched


@dataclass(frozen=True)
class BuildOptions:
    allow_remote: bool = False
    allow_plugins: bool = False


class RenderError(UsageError):
    """A kustomization that cannot be built safely, or whose build fails (exit code 2)."""


def refuse_unsafe(graph: KustomizationGraph, root: Kustomization, shown: str,
                  options: BuildOptions, display: dict[Path, str], within: Path) -> None:
    """Refuse a build that would fetch, run, or read outside ``within`` (the repository)
    without the command-line flag that allows it."""
    problems = []
    for node in graph.reachable(root):
        where = display.get(node.file, str(node.file))
        if not options.allow_remote:
            problems += [f"{where} ({pointer}): '{entry}' is not a local file or directory, so "
                         "kustomize would fetch it; pass --allow-remote-bases to allow that"
                         for pointer, entry in node.remote]
            problems += [f"{where}: it reads {_described(path, display)}, outside {within}; "
                         "pass --allow-remote-bases to allow that"
                         for path in (*node.local_dirs, *node.local_files)
                         if not _inside(path, within)]
        if not options.allow_plugins:
            problems += [f"{where} ({pointer}): {why}; pass --allow-kustomize-plugins to allow "
                         "that" for pointer, why in node.plugins]
    if problems:
        raise RenderError(f"not building {shown}:\n  " + "\n  ".join(problems))


def repository_root(directory: Path) -> Path | None:
    """The git work tree holding ``directory``, if any."""
    try:
        completed = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=directory,
                                   capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    top = completed.stdout.decode("utf-8", "surrogateescape").strip()
    return Path(top) if completed.returncode == 0 and top else None


def _described(path: Path, display: dict[Path, str]) -> str:
    shown = display.get(path, str(path))
    return f"{shown} (a link to {path.resolve()})" if path.is_symlink() else shown


def _inside(path: Path, within: Path) -> bool:
    try:  # through links, as kustomize reads them
        return path.resolve().is_relative_to(within.resolve())
    except (OSError, RuntimeError):
        return False


def _command() -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise RenderError("--render kustomize needs kustomize or kubectl on PATH, and neither is "
                      "installed")


def _environment(options: BuildOptions) -> dict[str, str]:
    environment = dict(os.environ)
    if not options.allow_remote:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                     "all_proxy"):
            environment[name] = _NOWHERE
        for name in ("NO_PROXY", "no_proxy"):
            environment.pop(name, None)
        environment.update({"GIT_ALLOW_PROTOCOL": "file", "GIT_TERMINAL_PROMPT": "0",
                            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    return environment


def build(directory: Path, shown: str, options: BuildOptions) -> tuple[str, Path]:
    """The build output of the kustomization in ``directory`` (on disk) with origin
    annotations, and the directory the annotations' paths are relative to."""
    command = _command()
    flags = ["--load-restrictor", "LoadRestrictionsRootOnly"]
    if options.allow_plugins:
        flags += ["--enable-alpha-plugins", "--enable-helm"]
        if command[0] == "kustomize":
            flags.append("--enable-exec")
    with tempfile.TemporaryDirectory(prefix="istiolint-kustomize-") as scratch:
        wrapper = Path(scratch).resolve()
        relative = os.path.relpath(directory.resolve(), wrapper)
        (wrapper / "kustomization.yaml").write_text(
            f"resources:\n- {_quoted(relative)}\nbuildMetadata: [originAnnotations]\n",
            encoding="utf-8")
        try:
            completed = subprocess.run([*command, str(wrapper), *flags], capture_output=True,
                                       check=False, timeout=BUILD_TIMEOUT,
                                       env=_environment(options))
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"kustomize build of {shown} took more than {BUILD_TIMEOUT} s"
                              ) from exc
        except OSError as exc:
            raise RenderError(f"cannot run {command[0]}: {exc.strerror or exc}") from exc
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip()
        message = message.replace(str(wrapper), "<istiolint wrapper>")
        raise RenderError(f"kustomize build of {shown} failed:\n  {message[-4000:]}")
    return completed.stdout.decode("utf-8", "replace"), wrapper


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
