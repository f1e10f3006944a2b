"""Repository snapshots: which files a repo job gets, their caps, and the stored copy.

Real git in temporary directories, with the machine's git configuration shut out.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from codeagent.tools.errors import CodeAgentError, RepoError
from codeagent.tools.repo import (
    RepoLimits,
    file_digest,
    list_repo_files,
    load_snapshot,
    snapshot_id,
    store_snapshot,
    take_snapshot,
)
from tests.git_support import git

pytestmark = pytest.mark.usefixtures("git_isolated")


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def make_repo(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


# --- which files -------------------------------------------------------------------------------


def test_a_git_repo_gives_tracked_and_untracked_files_but_not_ignored_ones(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {".gitignore": "*.log\nbuild/\n", "src/app.py": "x = 1\n", "gone.py": "", "README": "hi\n"},
    )
    write(repo, {"notes.txt": "new\n", "debug.log": "noise\n", "build/out.bin": "x"})
    (repo / "gone.py").unlink()  # deleted in the work tree, still tracked

    files, skipped = list_repo_files(repo)

    assert files == [".gitignore", "README", "notes.txt", "src/app.py"]
    assert skipped == []


def test_nested_gitignore_files_apply_below_their_folder(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.tmp": "kept: no rule at the top\n"})
    write(
        repo,
        {
            "pkg/.gitignore": "*.tmp\n!keep.tmp\n",
            "pkg/x.tmp": "ignored\n",
            "pkg/keep.tmp": "re-included\n",
            "pkg/deep/y.tmp": "ignored below too\n",
            "pkg/mod.py": "",
        },
    )

    files, _ = list_repo_files(repo)

    assert files == ["a.tmp", "pkg/.gitignore", "pkg/keep.tmp", "pkg/mod.py"]


GITIGNORE_TREE: dict[str, str | bytes] = {
    ".gitignore": (
        "# a comment\n"
        "\n"
        "*.pyc\n"
        "/top_only.txt\n"
        "logs/\n"
        "!logs.txt\n"
        "data/**/*.csv\n"
        "!data/**/keep.csv\n"
        "docs/*.md\n"
        "!docs/index.md\n"
        "**/cache\n"
        "build\n"
        "a?c.txt\n"
        "[xy]z.txt\n"
        "\\#hash.txt\n"
        "trailing.txt   \n"
    ),
    "app.pyc": "",
    "pkg/mod.pyc": "",
    "pkg/mod.py": "",
    "top_only.txt": "",
    "pkg/top_only.txt": "",
    "logs/today.txt": "",
    "logs.txt": "",
    "pkg/logs/x.txt": "",
    "data/a/b/t.csv": "",
    "data/t.csv": "",
    "data/a/keep.csv": "",
    "data/a/t.json": "",
    "docs/guide.md": "",
    "docs/index.md": "",
    "docs/sub/deep.md": "",
    "cache/c.txt": "",
    "pkg/cache/c.txt": "",
    "notcache/c.txt": "",
    "other/logs": "a file, where the rule says logs/",
    "build/b.txt": "",
    "pkg/build": "a file named build",
    "abc.txt": "",
    "abbc.txt": "",
    "xz.txt": "",
    "wz.txt": "",
    "#hash.txt": "",
    "trailing.txt": "",
    "sub/.gitignore": "*.txt\n!important.txt\n/local.py\n",
    "sub/notes.txt": "",
    "sub/important.txt": "",
    "sub/local.py": "",
    "sub/inner/local.py": "",
}


def test_a_plain_folder_obeys_gitignore_exactly_as_git_does(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write(plain, GITIGNORE_TREE)
    walked, skipped = list_repo_files(plain)

    as_git = tmp_path / "as_git"
    shutil.copytree(plain, as_git)
    git(as_git, "init", "-q")
    listed, _ = list_repo_files(as_git)

    assert walked == listed  # real git is the reference
    assert skipped == []
    assert "data/a/keep.csv" in walked and "docs/sub/deep.md" in walked
    assert "pkg/mod.pyc" not in walked and "pkg/cache/c.txt" not in walked


def test_a_plain_folder_skips_dot_git_and_negation_cannot_reach_into_an_ignored_folder(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            ".gitignore": "vendor/\n!vendor/keep.py\n",
            "vendor/keep.py": "",
            ".git": "gitdir: /elsewhere\n",  # a worktree's .git file
            "sub/.git/config": "",
            "sub/code.py": "",
        },
    )

    files, _ = list_repo_files(tmp_path)

    assert files == [".gitignore", "sub/code.py"]


def test_a_subfolder_of_a_repo_gives_paths_relative_to_itself(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo", {"top.py": "", "svc/api.py": "", "svc/.gitignore": "*.db\n"}
    )
    write(repo, {"svc/local.db": "", "svc/new.py": ""})

    snapshot = take_snapshot(repo / "svc")

    assert sorted(snapshot.files) == [".gitignore", "api.py", "new.py"]
    assert snapshot.base_commit == git(repo, "rev-parse", "HEAD").strip()


# --- links and odd files -----------------------------------------------------------------------


def test_a_link_inside_the_repo_is_copied_as_its_target(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"real.py": "x = 1\n"})
    (repo / "alias.py").symlink_to("real.py")
    (tmp_path / "secret.txt").write_text("password\n")
    (repo / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (repo / "dangling.py").symlink_to("nowhere.py")
    (repo / "config").symlink_to(".git/config")

    snapshot = take_snapshot(repo)

    assert snapshot.files["alias.py"] == b"x = 1\n"
    assert "leak.txt" not in snapshot.files and "dangling.py" not in snapshot.files
    reasons = dict(snapshot.skipped)
    assert (
        reasons["leak.txt"] == f"symbolic link to {tmp_path / 'secret.txt'}, outside the repository"
    )
    assert reasons["dangling.py"] == "symbolic link to nowhere.py, which does not exist"
    assert reasons["config"] == "symbolic link to .git/config, inside .git"


def test_a_plain_folder_skips_a_link_leaving_it_and_a_fifo(tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("not yours\n")
    root = tmp_path / "project"
    write(root, {"main.py": "print(1)\n", "lib/util.py": ""})
    (root / "out.txt").symlink_to("../outside.txt")
    (root / "lib_link").symlink_to("lib")
    os.mkfifo(root / "pipe")

    files, skipped = list_repo_files(root)

    assert files == ["lib/util.py", "main.py"]
    assert skipped == [
        ("lib_link", "symbolic link to the directory lib"),
        ("out.txt", "symbolic link to ../outside.txt, outside the repository"),
        ("pipe", "not a regular file (fifo, socket or device)"),
    ]


_LIST_AS_USER = """
import sys
from pathlib import Path
from codeagent.tools.repo import list_repo_files
print(list_repo_files(Path(sys.argv[1])))
"""


def test_an_unreadable_file_is_skipped_with_the_reason(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    root = tmp_path / "project"
    write(root, {"ok.py": "", "locked.py": "secret"})
    (root / "locked.py").chmod(0)
    if os.geteuid() != 0:
        assert list_repo_files(root) == (
            ["ok.py"],
            [("locked.py", "cannot be read: permission denied")],
        )
        return
    request.getfixturevalue("bwrap")  # root reads everything: look as an ordinary user
    proc = subprocess.run(
        ["bwrap", "--unshare-user", "--uid", "1000", "--dev-bind", "/", "/",
         sys.executable, "-c", _LIST_AS_USER, str(root)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout.strip() == "(['ok.py'], [('locked.py', 'cannot be read: permission denied')])"
    )


def test_a_name_the_sandbox_cannot_hold_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "ok.py").write_text("")
    (root / os.fsdecode(b"bad\xffname.txt")).write_text("")
    (root / "tab\tname.txt").write_text("")
    (root / "back\\slash.txt").write_text("")  # the sandbox reads \\ as a folder separator

    files, skipped = list_repo_files(root)

    assert files == ["ok.py"]
    assert [path for path, _ in skipped] == [
        "back\\slash.txt",
        os.fsdecode(b"bad\xffname.txt"),
        "tab\tname.txt",
    ]
    assert all(reason.startswith("a name the sandbox cannot hold") for _, reason in skipped)


def test_a_binary_file_is_kept_as_bytes_and_reported(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
    latin1 = "café\n".encode("latin-1")
    root = tmp_path / "project"
    write(root, {"logo.png": png, "old.txt": latin1, "new.txt": "naïve ✓\r\nline\n"})

    snapshot = take_snapshot(root)

    assert snapshot.files["logo.png"] == png and snapshot.files["old.txt"] == latin1
    assert snapshot.binary_paths() == ["logo.png", "old.txt"]
    assert snapshot.text("logo.png") is None
    assert snapshot.text("new.txt") == "naïve ✓\r\nline\n"
    assert snapshot.texts() == {"new.txt": "naïve ✓\r\nline\n"}
    assert snapshot.total_bytes == len(png) + len(latin1) + len("naïve ✓\r\nline\n".encode())
    with pytest.raises(RepoError, match=r"'missing\.py' is not in the snapshot"):
        snapshot.text("missing.py")


# --- caps and bad roots ------------------------------------------------------------------------


def test_too_many_files_is_refused_naming_the_crowded_folder(tmp_path: Path) -> None:
    write(tmp_path, {f"gen/f{i}.txt": "" for i in range(8)} | {"main.py": ""})

    with pytest.raises(RepoError) as caught:
        list_repo_files(tmp_path, RepoLimits(max_files=5))

    assert "more than 5 files (max_files=5)" in caught.value.message
    assert "gen/ (" in caught.value.message
    assert caught.value.hint and ".gitignore" in caught.value.hint


def test_one_file_over_the_cap_is_refused_by_name(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"small.py": "x", "data/dump.sql": "y" * 2000})

    with pytest.raises(RepoError) as caught:
        take_snapshot(repo, RepoLimits(max_file_bytes=1000))

    assert "exceed max_file_bytes=1,000: data/dump.sql (2,000 bytes)" in caught.value.message
    assert caught.value.hint and "max_file_bytes" in caught.value.hint


def test_too_many_bytes_together_is_refused_with_the_total(tmp_path: Path) -> None:
    write(tmp_path, {"assets/a.bin": b"a" * 600, "assets/b.bin": b"b" * 600, "x.py": "1"})

    with pytest.raises(RepoError) as caught:
        list_repo_files(tmp_path, RepoLimits(max_total_bytes=1000))

    message = caught.value.message
    assert "add up to 1,201 bytes, over max_total_bytes=1,000" in message
    assert "the biggest: assets/ (1,200 bytes)" in message


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_root_that_is_not_a_folder_is_refused(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "repo"
    if kind == "file":
        root.write_text("")
    with pytest.raises(RepoError, match="does not exist" if kind == "missing" else "not a dir"):
        take_snapshot(root)


# --- identity, store and load ------------------------------------------------------------------


def test_the_same_files_give_the_same_id(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"a.py": "x = 1\n", "pkg/b.bin": b"\0\1"}
    repo = make_repo(tmp_path / "repo", files)
    plain = tmp_path / "plain"
    write(plain, files)

    first, second = take_snapshot(repo), take_snapshot(plain)
    (plain / "a.py").write_text("x = 2\n")

    assert first.id == second.id == snapshot_id(first.files)
    assert first.base_commit is not None and second.base_commit is None
    assert take_snapshot(plain).id != first.id
    assert file_digest(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_a_snapshot_stored_and_loaded_is_the_same(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "é\n", "b/c.bin": b"\0\xff", "d e.txt": ""})
    (repo / "leak").symlink_to("/etc/hostname")
    snapshot = take_snapshot(repo)
    home = tmp_path / "home"

    path = store_snapshot(snapshot, home)
    (repo / "a.py").write_text("changed after the snapshot\n")
    loaded = load_snapshot(snapshot.id, home)

    assert path == home / "snapshots" / f"{snapshot.id}.tar"
    assert loaded == snapshot
    assert dict(loaded.files) == dict(snapshot.files)
    assert loaded.skipped == (("leak", "symbolic link to /etc/hostname, outside the repository"),)


def test_the_stored_tar_is_deterministic_and_written_once(tmp_path: Path) -> None:
    snapshot = take_snapshot(make_repo(tmp_path / "repo", {"x.py": "1\n", "y/z.py": "2\n"}))

    first = store_snapshot(snapshot, tmp_path / "h1")
    written = first.stat().st_mtime_ns
    again = store_snapshot(snapshot, tmp_path / "h1")
    other = store_snapshot(snapshot, tmp_path / "h2")

    assert again.stat().st_mtime_ns == written  # intact: kept as it was
    assert first.read_bytes() == other.read_bytes()
    with tarfile.open(first) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["x.py", "y/z.py"]
    assert {(m.mtime, m.uid, m.gid, m.mode) for m in members} == {(0, 0, 0, 0o644)}


def test_a_corrupt_stored_snapshot_is_refused_and_then_rewritten(tmp_path: Path) -> None:
    snapshot = take_snapshot(make_repo(tmp_path / "repo", {"x.py": "1\n" * 100}))
    home = tmp_path / "home"
    tar_path = store_snapshot(snapshot, home)
    data = tar_path.read_bytes()
    tar_path.write_bytes(data.replace(b"1\n1\n", b"2\n1\n", 1))  # same size, other content

    with pytest.raises(RepoError, match="files do not match its id") as caught:
        load_snapshot(snapshot.id, home)
    assert caught.value.hint

    tar_path.write_bytes(data[:700])  # truncated
    with pytest.raises(RepoError, match="is corrupt"):
        load_snapshot(snapshot.id, home)

    store_snapshot(snapshot, home)  # not intact: written again
    assert load_snapshot(snapshot.id, home) == snapshot


def test_a_stored_tar_with_a_name_leaving_the_workspace_is_refused(tmp_path: Path) -> None:
    files = {"../evil.py": b"x"}  # an id that matches: only the name gives it away
    bad_id = snapshot_id(files)
    (tmp_path / "snapshots").mkdir()
    with tarfile.open(tmp_path / "snapshots" / f"{bad_id}.tar", "w") as tar:
        info = tarfile.TarInfo("../evil.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    (tmp_path / "snapshots" / f"{bad_id}.json").write_text('{"root": "", "skipped": []}')

    with pytest.raises(RepoError, match=r"is corrupt: unexpected entry '\.\./evil\.py'"):
        load_snapshot(bad_id, tmp_path)


def test_a_missing_or_malformed_snapshot_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RepoError, match="is not in") as caught:
        load_snapshot("0" * 64, tmp_path)
    assert isinstance(caught.value, CodeAgentError) and caught.value.hint
    with pytest.raises(RepoError, match="is not a snapshot id"):
        load_snapshot("../../etc/passwd", tmp_path)
