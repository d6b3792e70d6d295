"""Synthesis options: what to synthesize and which release to stamp.

Read from the process environment so that ``make synth`` and a plain ``cdktf synth`` (which
runs the app command from cdktf.json with no arguments) behave the same. This module and the
environment model are the only infrastructure code that reads ``os.environ``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from stacks.environments.model import ConfigError, Problem

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True, kw_only=True)
class SynthOptions:
    """What one synthesis run produces.

    ``environments``: names to synthesize. Default: every environment file.
    ``image_tag``: the API image tag deployed. Default: the project version.
    ``image_digest``: pins the image by digest (``sha256:...``) when set. Default: tag only.
    ``git_revision``: the commit stamped on the release. Default: ``unknown``.
    """

    environments: tuple[str, ...] = ()
    image_tag: str | None = None
    image_digest: str | None = None
    git_revision: str = "unknown"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> SynthOptions:
        """Read ``KAKEHASHI_ENV`` (comma-separated), ``KAKEHASHI_IMAGE_TAG``,
        ``KAKEHASHI_IMAGE_DIGEST`` and ``KAKEHASHI_GIT_REVISION``."""
        env = os.environ if environ is None else environ
        # Order kept, duplicates dropped: "dev,dev" means dev once.
        names = tuple(
            dict.fromkeys(n.strip() for n in env.get("KAKEHASHI_ENV", "").split(",") if n.strip())
        )
        problems: list[Problem] = []
        tag = env.get("KAKEHASHI_IMAGE_TAG") or None
        digest = env.get("KAKEHASHI_IMAGE_DIGEST") or None
        revision = env.get("KAKEHASHI_GIT_REVISION") or "unknown"
        if tag is not None and not _TAG.match(tag):
            problems.append(
                Problem(
                    "<synth>",
                    "KAKEHASHI_IMAGE_TAG",
                    tag,
                    "must be a Docker tag ([A-Za-z0-9_.-], at most 128)",
                )
            )
        if digest is not None and not _DIGEST.match(digest):
            problems.append(
                Problem(
                    "<synth>",
                    "KAKEHASHI_IMAGE_DIGEST",
                    digest,
                    "must be 'sha256:' followed by 64 hex digits",
                )
            )
        if not re.fullmatch(r"[0-9a-f]{7,40}|unknown", revision):
            problems.append(
                Problem(
                    "<synth>",
                    "KAKEHASHI_GIT_REVISION",
                    revision,
                    "must be a git commit hash (7-40 hex digits)",
                )
            )
        if problems:
            raise ConfigError(problems)
        return cls(environments=names, image_tag=tag, image_digest=digest, git_revision=revision)
