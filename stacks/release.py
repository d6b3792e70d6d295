"""The release: one version (``pyproject.toml``) plus the git revision, stamped everywhere.

Pure Python (no provider bindings), so ``pipelines/`` and the verifier import it cheaply.
The same :class:`Release` value names the image tag CI pushes, the image reference and the
``APP_VERSION`` / ``GIT_REVISION`` variables of the task definition, the ``release`` tag of
the service and task definition (never a provider default tag: that would rewrite every
resource on every release), and the stack outputs and metadata the post-deploy verifier
compares with ``GET /version``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def project_version(pyproject: Path = PYPROJECT) -> str:
    """``[project].version`` of ``pyproject.toml``: the single version source."""
    with pyproject.open("rb") as fh:
        version = tomllib.load(fh)["project"]["version"]
    if not isinstance(version, str) or not version:
        raise ValueError(f"{pyproject}: [project].version must be a non-empty string")
    return version


def image_tag_for(version: str, git_revision: str) -> str:
    """The tag CI pushes: ``<version>-<12 hex of the commit>``.

    Tags are immutable in ECR, so every commit needs its own tag; the version stays the
    prefix so a human reading the registry knows what a digest is. Without a revision
    (local builds) the tag is the bare version.
    """
    if git_revision == "unknown":
        return version
    return f"{version}-{git_revision[:12]}"


@dataclass(frozen=True, kw_only=True)
class Release:
    """What one synthesis deploys.

    ``version``: ``pyproject.toml`` ``[project].version``.
    ``git_revision``: the commit. Default: ``unknown`` (local synth).
    ``image_tag``: the pushed tag. Default: :func:`image_tag_for` (version, revision).
    ``image_digest``: ``sha256:...``; when set the image is pulled by digest (what CI
    deploys, so every environment runs the very bytes that were tested). Default: by tag.
    """

    version: str
    git_revision: str = "unknown"
    image_tag: str | None = None
    image_digest: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.image_digest is not None and not _DIGEST.match(self.image_digest):
            problems.append(f"image_digest={self.image_digest!r}: 'sha256:' + 64 hex digits")
        if self.image_tag is not None and not self.image_tag.startswith(self.version):
            problems.append(
                f"image_tag={self.image_tag!r}: must start with the version {self.version!r} "
                "(one versioned unit)"
            )
        if problems:
            raise ValueError("Release: " + "; ".join(problems))

    @classmethod
    def current(
        cls,
        *,
        git_revision: str = "unknown",
        image_tag: str | None = None,
        image_digest: str | None = None,
        pyproject: Path = PYPROJECT,
    ) -> Release:
        """The release of this checkout (version read from ``pyproject.toml``)."""
        return cls(
            version=project_version(pyproject),
            git_revision=git_revision,
            image_tag=image_tag,
            image_digest=image_digest,
        )

    @property
    def tag(self) -> str:
        """The image tag (explicit, else derived from version and revision)."""
        return self.image_tag or image_tag_for(self.version, self.git_revision)

    def image_reference(self, repository_uri: str) -> str:
        """``<repo>@sha256:...`` when the digest is known, else ``<repo>:<tag>``."""
        if self.image_digest:
            return f"{repository_uri}@{self.image_digest}"
        return f"{repository_uri}:{self.tag}"

    def resource_tags(self) -> dict[str, str]:
        """Tags for the service and task definition only (never provider default tags)."""
        return {"release": self.version, "git-revision": self.git_revision}

    def metadata(self) -> dict[str, str]:
        """What the stack metadata and outputs record about the release."""
        return {
            "version": self.version,
            "git_revision": self.git_revision,
            "image_tag": self.tag,
            "image_digest": self.image_digest or "",
        }
