"""``python -m pipelines.release``: the release identifiers every pipeline uses.

One source for the version (``pyproject.toml``) and one rule for the image tag, shared by
GitHub Actions, CodeBuild and ``make``, so the tag pushed, the tag synthesized and the
version the app reports cannot differ.

  python -m pipelines.release version          0.1.0
  python -m pipelines.release revision         the commit (KAKEHASHI_GIT_REVISION or git)
  python -m pipelines.release image-tag        0.1.0-0123456789ab
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence

from stacks.release import project_version

_REVISION = re.compile(r"^[0-9a-f]{40}$")


def git_revision(environ: Mapping[str, str] | None = None) -> str:
    """The commit: ``KAKEHASHI_GIT_REVISION``, else CI's own variables, else ``git``."""
    env = os.environ if environ is None else environ
    for name in ("KAKEHASHI_GIT_REVISION", "GITHUB_SHA", "CODEBUILD_RESOLVED_SOURCE_VERSION"):
        value = env.get(name, "")
        if _REVISION.match(value):
            return value
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, fixed arguments
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out if _REVISION.match(out) else "unknown"


def image_tag_for(version: str, revision: str) -> str:
    """The tag CI pushes: ``<version>-<12 hex of the commit>``.

    ECR tags are immutable, so every commit needs its own tag; the version stays the prefix
    so a human reading the registry knows what a digest is. Deploys pin the digest; the tag
    is for people. Without a revision (local builds) the tag is the bare version.
    """
    if revision == "unknown":
        return version
    return f"{version}-{revision[:12]}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.release")
    parser.add_argument("what", choices=("version", "revision", "image-tag"))
    args = parser.parse_args(argv)
    if args.what == "version":
        print(project_version())
    elif args.what == "revision":
        print(git_revision())
    else:
        print(image_tag_for(project_version(), git_revision()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
