"""Files the Dockerfiles of a scanned tree copy into their images (infralint/images/in_tree.py)."""

from __future__ import annotations

import os
from pathlib import Path

from scanning import write

from infralint.images.in_tree import image_files, is_dockerfile_name


def test_dockerfile_names() -> None:
    for name in ("Dockerfile", "Containerfile", "Dockerfile.prod", "web.Dockerfile", "nginx.containerfile"):
        assert is_dockerfile_name(name), name
    for name in ("Dockerfile-notes.md", "dockerfiles", "compose.yaml"):
        assert not is_dockerfile_name(name), name


def test_sources_are_found_from_the_nearest_context_up(tmp_path: Path) -> None:
    write(tmp_path, "conf/a.conf", "")
    write(tmp_path, "images/proxy/conf/b.conf", "")
    write(
        tmp_path,
        "images/proxy/Dockerfile",
        "FROM nginx:1.27\n"
        "COPY conf/b.conf /etc/nginx/b.conf\n"  # beside the Dockerfile
        "COPY conf/a.conf /etc/nginx/conf.d\n"  # at the root: a file, or a file in that folder
        "COPY --from=build /out/c.conf /etc/nginx/c.conf\n"  # another stage: not a scanned file
        "COPY conf/b.conf relative/\n"  # depends on WORKDIR
        "COPY ${MISSING}/x.conf /etc/nginx/x.conf\n",
    )
    assert image_files(str(tmp_path)) == {
        "/etc/nginx/b.conf": ["images/proxy/conf/b.conf"],
        "/etc/nginx/conf.d": ["conf/a.conf"],
        "/etc/nginx/conf.d/a.conf": ["conf/a.conf"],
    }


def test_folders_wildcards_and_several_sources(tmp_path: Path) -> None:
    for name in ("nginx/snippets/one.conf", "nginx/snippets/deep/two.conf", "nginx/x.conf", "nginx/y.conf"):
        write(tmp_path, name, "")
    write(
        tmp_path,
        "Containerfile",
        "FROM nginx:1.27 AS base\n"
        "COPY nginx/snippets/ /etc/nginx/snippets/\n"
        "FROM base\n"
        "COPY nginx/*.conf /etc/nginx/conf.d/\n"
        'COPY ["nginx/x.conf", "nginx/y.conf", "/srv/"]\n',
    )
    assert image_files(str(tmp_path)) == {
        "/etc/nginx/snippets/one.conf": ["nginx/snippets/one.conf"],
        "/etc/nginx/snippets/deep/two.conf": ["nginx/snippets/deep/two.conf"],
        "/etc/nginx/conf.d/x.conf": ["nginx/x.conf"],
        "/etc/nginx/conf.d/y.conf": ["nginx/y.conf"],
        "/srv/x.conf": ["nginx/x.conf"],
        "/srv/y.conf": ["nginx/y.conf"],
    }


def test_a_changed_dockerfile_is_read_again(tmp_path: Path) -> None:
    write(tmp_path, "a.conf", "")
    dockerfile = write(tmp_path, "Dockerfile", "FROM nginx:1.27\nCOPY a.conf /etc/nginx/a.conf\n")
    assert list(image_files(str(tmp_path))) == ["/etc/nginx/a.conf"]
    dockerfile.write_text("FROM nginx:1.27\nCOPY a.conf /etc/nginx/b.conf\n", encoding="utf-8")
    os.utime(dockerfile, ns=(1, 1))  # a new time even where the clock is coarse
    copied = image_files(str(tmp_path))
    assert "/etc/nginx/b.conf" in copied and "/etc/nginx/a.conf" not in copied
