"""A job's changes handed back: the patch (checked by real `git apply` and `patch -p1`),
applied to the working tree all or nothing, or committed on a new branch without
touching the working tree, the index or the current branch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from codeagent.tools.errors import RepoError
from codeagent.tools.repo import (
    apply_changes,
    commit_on_branch,
    make_patch,
    patch_stats,
    take_snapshot,
)
from tests.git_support import git

pytestmark = pytest.mark.usefixtures("git_isolated")


def write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def make_repo(root: Path, files: Mapping[str, bytes]) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write_tree(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def expected_tree(base: Mapping[str, bytes], changes: Mapping[str, str | None]) -> dict[str, bytes]:
    out = dict(base)
    for path, text in changes.items():
        if text is None:
            out.pop(path, None)
        else:
            out[path] = text.encode("utf-8")
    return out


BASE: dict[str, bytes] = {
    "README.md": b"# Demo\n\nSome words.\n",
    "src/pkg/core.py": "".join(f"line {i}\n" for i in range(1, 21)).encode(),
    "src/pkg/no_eol.py": b"def f():\n    return 1",
    "src/old.py": b"obsolete = True\n",
    "src/empty_old.txt": b"",
    "docs/café.md": "Café ☕\n".encode(),
    "crlf.txt": b"one\r\ntwo\r\n",
    "dir with space/file name.txt": b"spaced\n",
    'say "hi".txt': b"odd name\n",
    "logo.png": b"\x89PNG\r\n\x1a\n\0\0",
}

CASES: dict[str, dict[str, str | None]] = {
    "edit in a subfolder": {
        "src/pkg/core.py": "".join(f"line {i}\n" for i in range(1, 21))
        .replace("line 3\n", "line three\n")
        .replace("line 17\n", "")
        + "line 21\n"
    },
    "new file in a new folder": {"src/new/mod.py": "def g():\n    return 2\n"},
    "deletion": {"src/old.py": None},
    "old text without a final newline": {"src/pkg/no_eol.py": "def f():\n    return 2\n"},
    "new text without a final newline": {"README.md": "# Demo\n\nOther words."},
    "new file without a final newline": {"new.txt": "no newline"},
    "non-ASCII text and name": {"docs/café.md": "Café ☕ naïve\nどうも\n"},
    "CRLF lines": {"crlf.txt": "one\r\n2\r\ntwo\r\n"},
    "names with spaces and quotes": {
        "dir with space/file name.txt": "still spaced\n",
        'say "hi".txt': "odder\n",
    },
    "empty file created and deleted": {"empty.txt": "", "src/empty_old.txt": None},
    "file emptied": {"README.md": ""},
    "line separators that are not newlines": {"README.md": "a\u2028b\rc\x0cd\n"},
}


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("base") / "repo", BASE)


@pytest.mark.parametrize("case", list(CASES))
def test_the_patch_applies_with_git_apply_and_patch_p1(
    case: str, base_repo: Path, tmp_path: Path
) -> None:
    changes = CASES[case]
    patch = make_patch(BASE, changes)
    (tmp_path / "job.diff").write_text(patch, encoding="utf-8")

    repo = tmp_path / "repo"
    shutil.copytree(base_repo, repo)
    subprocess.run(["git", "-C", str(repo), "apply", str(tmp_path / "job.diff")], check=True)
    assert read_tree(repo) == expected_tree(BASE, changes)

    plain = tmp_path / "plain"
    write_tree(plain, BASE)
    with open(tmp_path / "job.diff", "rb") as diff:
        subprocess.run(
            ["patch", "-p1", "-s", "-d", str(plain)], stdin=diff, check=True, capture_output=True
        )
    assert read_tree(plain) == expected_tree(BASE, changes)


def test_all_changes_at_once_apply_and_keep_git_style_headers(
    base_repo: Path, tmp_path: Path
) -> None:
    changes = {k: v for case in CASES.values() for k, v in case.items() if k != "README.md"}
    changes["README.md"] = BASE["README.md"].decode()  # unchanged: left out
    patch = make_patch(BASE, changes)
    (tmp_path / "job.diff").write_text(patch, encoding="utf-8")
    repo = tmp_path / "repo"
    shutil.copytree(base_repo, repo)
    git(repo, "update-index", "-q", "--refresh")  # the copy has new mtimes

    git(repo, "apply", "--index", str(tmp_path / "job.diff"))

    assert read_tree(repo) == expected_tree(BASE, changes)
    assert "README.md" not in patch
    assert "diff --git a/src/old.py b/src/old.py\ndeleted file mode 100644\n" in patch
    assert "diff --git a/src/new/mod.py b/src/new/mod.py\nnew file mode 100644\n" in patch
    assert "+++ b/dir with space/file name.txt\t\n" in patch
    chunks = ["diff --git " + chunk for chunk in patch.split("diff --git ")[1:]]
    in_order = [patch_stats(chunk).files for chunk in chunks]
    expected = expected_tree(BASE, changes)
    changed = sorted(p for p in changes if expected.get(p) != BASE.get(p))
    assert in_order == [(path,) for path in changed] and len(changed) == 11
    # the index lines name real blobs: what `git apply --index` staged
    staged = git(repo, "ls-files", "-s", "src/new/mod.py").split()[1]
    assert f"index 0000000000000000000000000000000000000000..{staged}\n" in patch


def test_a_file_may_replace_a_folder_whose_files_are_all_deleted(
    base_repo: Path, tmp_path: Path
) -> None:
    changes = {"README.md": None, "README.md/index.md": "# Demo\n"}
    (tmp_path / "job.diff").write_text(make_patch(BASE, changes), encoding="utf-8")
    repo = tmp_path / "repo"
    shutil.copytree(base_repo, repo)

    git(repo, "apply", str(tmp_path / "job.diff"))

    assert read_tree(repo) == expected_tree(BASE, changes)


def test_no_change_gives_an_empty_patch() -> None:
    assert make_patch(BASE, {}) == ""
    assert make_patch(BASE, {"README.md": BASE["README.md"].decode(), "absent.txt": None}) == ""


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"logo.png": "text now"}, "logo.png: a binary file"),
        ({"logo.png": None}, "logo.png: a binary file"),
        ({"../outside.py": "x"}, "outside the workspace"),
        ({"/etc/passwd": "x"}, "outside the workspace"),
        ({".git/config": "x"}, ".git/config: inside .git"),
        ({"sub/.git/hooks/pre-commit": "x"}, "inside .git"),
        ({"bad.txt": "lone \ud800 surrogate"}, "not valid Unicode"),
        ({"src/pkg": "a file where a folder is"}, "src/pkg: a folder in the repository"),
        ({"README.md/x.py": "x"}, "README.md/x.py: README.md is a file in the repository"),
    ],
)
def test_changes_that_cannot_be_a_patch_are_refused(
    changes: dict[str, str | None], says: str
) -> None:
    with pytest.raises(RepoError, match="cannot be applied") as caught:
        make_patch(BASE, changes)
    assert says in caught.value.message and caught.value.hint


def test_patch_stats_count_files_and_lines() -> None:
    changes = {
        "src/old.py": None,
        "new.txt": "a\n-- not a header\n++ neither\n",
        "README.md": "# Demo\n\nOther words.",
        "dir with space/file name.txt": "x\n",
        'say "hi".txt': None,
    }
    patch = make_patch(BASE, changes)

    stats = patch_stats(patch)

    assert stats.files == (
        "README.md",
        "dir with space/file name.txt",
        "new.txt",
        'say "hi".txt',
        "src/old.py",
    )
    assert (stats.added, stats.removed) == (1 + 3 + 1, 1 + 1 + 1 + 1)
    assert stats.bytes == len(patch.encode("utf-8"))
    assert patch_stats("") == patch_stats("") and patch_stats("").files == ()


# --- apply_changes -----------------------------------------------------------------------------


def test_apply_changes_writes_new_edited_and_deleted_files(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_tree(root, BASE)
    (root / "src/pkg/core.py").chmod(0o755)
    snapshot = take_snapshot(root)
    changes: dict[str, str | None] = {
        "src/pkg/core.py": "print('edited')\n",
        "src/new/deep/mod.py": "x = 1\n",
        "docs/café.md": None,
        "README.md": BASE["README.md"].decode(),  # unchanged: not written
    }

    touched = apply_changes(root, snapshot.files, changes)

    assert touched == ["docs/café.md", "src/new/deep/mod.py", "src/pkg/core.py"]
    assert read_tree(root) == expected_tree(BASE, changes)
    assert (root / "src/pkg/core.py").stat().st_mode & 0o777 == 0o755
    assert not (root / "docs").exists()  # emptied by the deletion, removed as git does
    assert not list(root.rglob(".codeagent-*"))


def test_apply_changes_refuses_files_changed_since_the_snapshot_and_writes_nothing(
    tmp_path: Path,
) -> None:
    root = tmp_path / "project"
    write_tree(root, BASE)
    snapshot = take_snapshot(root)
    (root / "README.md").write_text("# Demo\n\nthe user's own edit\n")
    (root / "src/new.py").write_text("the user's new file\n")
    (root / "src/old.py").unlink()
    before = read_tree(root)

    with pytest.raises(RepoError) as caught:
        apply_changes(
            root,
            snapshot.files,
            {
                "README.md": "job's text\n",
                "src/new.py": "job's new file\n",
                "src/old.py": "job's edit\n",
                "src/pkg/core.py": "job's edit that alone would apply\n",
                "crlf.txt": None,
            },
        )

    message = caught.value.message
    assert "3 file(s)" in message and "nothing was applied" in message
    assert "README.md: changed since the snapshot" in message
    assert "src/new.py: created since the snapshot" in message
    assert "src/old.py: deleted since the snapshot" in message
    assert read_tree(root) == before


def test_apply_changes_refuses_a_path_leading_out_through_a_link(tmp_path: Path) -> None:
    root, outside = tmp_path / "project", tmp_path / "outside"
    write_tree(root, {"a.txt": b"a\n"})
    outside.mkdir()
    (root / "out").symlink_to(outside)
    (root / "alias.txt").symlink_to("a.txt")
    base = {"a.txt": b"a\n", "alias.txt": b"a\n"}

    with pytest.raises(RepoError) as caught:
        apply_changes(root, base, {"out/evil.py": "x", "alias.txt": "b\n", "a.txt": "c\n"})

    assert "out/evil.py: its folder leads outside the repository" in caught.value.message
    assert "alias.txt: a symbolic link in the working tree" in caught.value.message
    assert list(outside.iterdir()) == [] and (root / "a.txt").read_bytes() == b"a\n"
    with pytest.raises(RepoError, match="is gone; nothing was applied"):
        apply_changes(tmp_path / "moved", base, {"new.txt": "x"})
    assert not (tmp_path / "moved").exists()


def test_a_write_failing_midway_puts_back_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "project"
    write_tree(root, BASE)
    snapshot = take_snapshot(root)
    before = read_tree(root)
    real_replace, calls = os.replace, []

    def full_disk_on_third(src: str | Path, dst: str | Path) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk_on_third)
    with pytest.raises(RepoError, match="No space left on device; nothing was changed"):
        apply_changes(
            root,
            snapshot.files,
            {"a_new/file.py": "1\n", "crlf.txt": None, "src/old.py": "2\n", "src/pkg/x.py": "3\n"},
        )

    monkeypatch.setattr(os, "replace", real_replace)
    assert read_tree(root) == before
    assert not (root / "a_new").exists() and not list(root.rglob(".codeagent-*"))


# --- commit_on_branch --------------------------------------------------------------------------


def _state(repo: Path) -> tuple[str, str, str, str, dict[str, bytes]]:
    index = hashlib.sha256((repo / ".git/index").read_bytes()).hexdigest()
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "symbolic-ref", "HEAD"),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        index,
        read_tree(repo),
    )


@pytest.fixture
def dirty_repo(tmp_path: Path) -> Path:
    """A repository with a staged edit, an unstaged edit and an untracked file."""
    files = {k: v for k, v in BASE.items() if k != "logo.png"}
    repo = make_repo(tmp_path / "repo", files | {"bin/tool.sh": b"#!/bin/sh\necho hi\n"})
    (repo / "bin/tool.sh").chmod(0o755)
    git(repo, "add", "bin/tool.sh")
    git(repo, "commit", "-q", "-m", "executable")
    (repo / "README.md").write_text("staged edit\n")
    git(repo, "add", "README.md")
    (repo / "crlf.txt").write_text("unstaged edit\n")
    (repo / "scratch.txt").write_text("untracked\n")
    return repo


def test_commit_on_branch_leaves_head_index_and_work_tree_alone(dirty_repo: Path) -> None:
    repo = dirty_repo
    base = git(repo, "rev-parse", "HEAD").strip()
    before = _state(repo)
    changes: dict[str, str | None] = {
        "src/pkg/core.py": "edited = True\n",
        "bin/tool.sh": "#!/bin/sh\necho bye\n",
        "src/new/mod.py": "x = 1\n",
        "src/old.py": None,
        "docs/café.md": "Café ☕ encore\n",
    }

    sha = commit_on_branch(repo, changes, "codeagent/fix", "Fix the core\n\nBy the agent.", base)

    assert _state(repo) == before
    assert git(repo, "rev-parse", "refs/heads/codeagent/fix").strip() == sha
    assert git(repo, "rev-parse", f"{sha}^").strip() == base
    assert git(repo, "log", "-1", "--format=%B", sha).strip() == "Fix the core\n\nBy the agent."
    assert git(repo, "show", f"{sha}:src/pkg/core.py") == "edited = True\n"
    assert git(repo, "show", f"{sha}:docs/café.md") == "Café ☕ encore\n"
    assert git(repo, "show", f"{sha}:src/new/mod.py") == "x = 1\n"
    changed = git(repo, "diff", "--name-status", "-z", base, sha).split("\0")
    assert dict(zip(changed[1::2], changed[0::2], strict=False)) == {
        "bin/tool.sh": "M",
        "docs/café.md": "M",
        "src/new/mod.py": "A",
        "src/old.py": "D",
        "src/pkg/core.py": "M",
    }
    assert git(repo, "ls-tree", sha, "bin/tool.sh").split()[0] == "100755"  # mode kept
    assert "scratch.txt" not in git(repo, "ls-tree", "-r", "--name-only", sha)
    assert git(repo, "log", "-1", "--format=%an <%ae>", sha).strip() == (
        "codeagent <codeagent@localhost>"  # no identity configured
    )


def test_commit_on_branch_uses_the_configured_identity_and_a_subfolder(dirty_repo: Path) -> None:
    repo = dirty_repo
    git(repo, "config", "user.name", "Ada Lovelace")
    git(repo, "config", "user.email", "ada@example.com")
    base = git(repo, "rev-parse", "HEAD").strip()

    sha = commit_on_branch(repo / "src", {"pkg/core.py": "sub = 1\n"}, "from-sub", "m", base)

    assert git(repo, "show", f"{sha}:src/pkg/core.py") == "sub = 1\n"
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn", sha).strip() == (
        "Ada Lovelace <ada@example.com>|Ada Lovelace"
    )


@pytest.mark.parametrize(
    ("branch", "says"),
    [
        ("main", "'main' is the current branch"),
        ("existing", "branch 'existing' already exists"),
        ("bad..name", "not a valid branch name"),
        ("-rf", "not a valid branch name"),
        ("@{-1}", "not a valid branch name"),
    ],
)
def test_commit_on_branch_refuses_a_branch_it_must_not_make(
    dirty_repo: Path, branch: str, says: str
) -> None:
    repo = dirty_repo
    git(repo, "branch", "existing")
    git(repo, "checkout", "-q", "existing")
    git(repo, "checkout", "-q", "main")  # now @{-1} names 'existing'
    base = git(repo, "rev-parse", "HEAD").strip()
    before = _state(repo), git(repo, "for-each-ref")

    with pytest.raises(RepoError, match="branch") as caught:
        commit_on_branch(repo, {"src/old.py": None}, branch, "m", base)

    assert says in caught.value.message and caught.value.hint
    assert (_state(repo), git(repo, "for-each-ref")) == before


def test_commit_on_branch_refuses_what_it_cannot_commit(dirty_repo: Path, tmp_path: Path) -> None:
    base = git(dirty_repo, "rev-parse", "HEAD").strip()
    plain = tmp_path / "plain"
    plain.mkdir()

    with pytest.raises(RepoError, match="is not a git repository"):
        commit_on_branch(plain, {"a.py": "x"}, "b", "m", base)
    with pytest.raises(RepoError, match="base commit 'deadbeefdead' is not in"):
        commit_on_branch(dirty_repo, {"a.py": "x"}, "b", "m", "deadbeef" * 5)
    with pytest.raises(RepoError, match=r"leave .* as it is"):
        commit_on_branch(dirty_repo, {"src/old.py": "obsolete = True\n"}, "b", "m", base)
    with pytest.raises(RepoError, match="src/pkg: a folder in the base commit"):
        commit_on_branch(dirty_repo, {"src/pkg": "x"}, "b", "m", base)
    with pytest.raises(RepoError, match="a folder on its path is a file"):
        commit_on_branch(dirty_repo, {"src/old.py/inner.py": "x"}, "b", "m", base)
    with pytest.raises(RepoError, match="outside the workspace"):
        commit_on_branch(dirty_repo, {"../x.py": "x"}, "b", "m", base)
    assert "b" not in git(dirty_repo, "branch", "--list", "b")
