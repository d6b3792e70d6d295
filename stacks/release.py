"""The release a synthesis stamps on the service: one version for infrastructure and API.

The version has a single source, ``[project].version`` in pyproject.toml (the API reads the
same field). The image defaults to the tag equal to that version; CI pins the promoted image
by digest (``KAKEHASHI_IMAGE_DIGEST``) so staging and prod run the exact bytes dev tested.

Where it is stamped (see stacks/service.py): the task definitions' image reference, the
container's ``APP_VERSION`` / ``GIT_REVISION``, a ``release`` tag on the ECS service and task
definitions only (never a default tag: that would rewrite every resource on every release),
and the service stack's outputs.

Pure Python (no provider bindings): pipelines and the verifier may import it cheaply.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from stacks.environments.model import ConfigError, DeliveryConfig, Problem
from stacks.environments.options import SynthOptions

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

_VERSION = re.compile(r"^\d+\.\d+\.\d+([A-Za-z0-9.+-]*)$")


def project_version(pyproject: Path = PYPROJECT) -> str:
    """``[project].version`` of pyproject.toml: the one version of the repository."""
    try:
        with pyproject.open("rb") as fh:
            version = tomllib.load(fh).get("project", {}).get("version")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            [Problem("<synth>", "pyproject.toml", str(pyproject), f"unreadable: {exc}")]
        ) from None
    if not isinstance(version, str) or not _VERSION.match(version):
        raise ConfigError(
            [
                Problem(
                    "<synth>",
                    "[project].version",
                    version,
                    "must be a version like 1.2.3 (the release version of infra and API)",
                )
            ]
        )
    return version


@dataclass(frozen=True, kw_only=True)
class Release:
    """What is deployed.

    ``version``: ``[project].version``.
    ``git_revision``: the commit synthesized. Default of the options: ``unknown``.
    ``image_repository_uri``: the delivery account's ECR repository.
    ``image_tag``: Default of the options: ``version``.
    ``image_digest``: ``sha256:...``; when set the image is pulled by digest, else by tag.
    """

    version: str
    git_revision: str
    image_repository_uri: str
    image_tag: str
    image_digest: str | None = None

    @property
    def image(self) -> str:
        """``<repo>@sha256:...`` when pinned by digest, else ``<repo>:<tag>``."""
        if self.image_digest:
            return f"{self.image_repository_uri}@{self.image_digest}"
        return f"{self.image_repository_uri}:{self.image_tag}"

    @property
    def label(self) -> str:
        """``<version>+<revision>``: the ``release`` tag value (valid tag characters)."""
        return f"{self.version}+{self.git_revision}"

    def outputs(self) -> dict[str, str]:
        """The stack outputs describing the release (name -> value)."""
        return {
            "release_version": self.version,
            "release_git_revision": self.git_revision,
            "release_image": self.image,
            "release_label": self.label,
        }


def release_from_options(
    options: SynthOptions, delivery: DeliveryConfig, *, pyproject: Path = PYPROJECT
) -> Release:
    """The release a synthesis run stamps: version from pyproject, image from the options."""
    version = project_version(pyproject)
    return Release(
        version=version,
        git_revision=options.git_revision,
        image_repository_uri=delivery.image_repository_uri(),
        image_tag=options.image_tag or version,
        image_digest=options.image_digest,
    )
