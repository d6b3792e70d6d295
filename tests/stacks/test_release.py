"""The release stamped on a synthesis: one version source, image by tag or digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.environments import ConfigError, SynthOptions, load_delivery
from stacks.release import Release, project_version, release_from_options

DIGEST = "sha256:" + "ab" * 32
REPO = "999900001111.dkr.ecr.ap-northeast-1.amazonaws.com/kakehashi/api"


def test_project_version_is_pyprojects_version() -> None:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert f'version = "{project_version()}"' in text


def test_image_defaults_to_the_project_version_tag() -> None:
    release = release_from_options(SynthOptions(), load_delivery())
    assert release.image_tag == release.version == project_version()
    assert release.image == f"{load_delivery().image_repository_uri()}:{release.version}"
    assert release.git_revision == "unknown"
    assert release.label == f"{release.version}+unknown"


def test_image_is_pinned_by_digest_when_one_is_given() -> None:
    options = SynthOptions(image_tag="1.2.3", image_digest=DIGEST, git_revision="abcdef0")
    release = release_from_options(options, load_delivery())
    assert release.image == f"{REPO}@{DIGEST}"
    assert release.image_tag == "1.2.3"
    assert release.outputs() == {
        "release_version": project_version(),
        "release_git_revision": "abcdef0",
        "release_image": f"{REPO}@{DIGEST}",
        "release_label": f"{project_version()}+abcdef0",
    }


def test_image_uses_the_given_tag_without_digest() -> None:
    release = Release(
        version="1.0.0", git_revision="abcdef0", image_repository_uri=REPO, image_tag="1.0.0-rc1"
    )
    assert release.image == f"{REPO}:1.0.0-rc1"


def test_rejects_a_pyproject_without_a_version(tmp_path: Path) -> None:
    bad = tmp_path / "pyproject.toml"
    bad.write_text('[project]\nname = "x"\n')
    with pytest.raises(ConfigError) as info:
        project_version(bad)
    assert info.value.problems[0].field == "[project].version"
