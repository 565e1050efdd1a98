"""Two processes writing into one output folder: a build holds the folder's lock while it writes,
and a second build or a release either fails at once naming the first (pid, command, start time)
or, with ``--wait``, waits for it. All processes here are real ``mapping`` commands; the first
build is frozen with SIGSTOP while it holds the lock, so that the overlap is certain.

A build also removes the staging folders that a build killed during its publish left behind,
and nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mapping.outputs import load_outputs
from mapping.pipeline.build import PROCESSED
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def mapping_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "mapping", *args]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(mapping_cmd(*args), cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def read_until(proc: subprocess.Popen, text: str, timeout: float = 120) -> list[str]:
    """Lines of ``proc``'s stderr up to the first holding ``text``."""
    seen = []
    deadline = time.monotonic() + timeout
    for line in proc.stderr:
        seen.append(line.rstrip("\n"))
        if text in line:
            return seen
        assert time.monotonic() < deadline, seen
    raise AssertionError(f"{text!r} never came; stderr: {seen}")


@pytest.fixture
def frozen_build(data_dir, tmp_path):
    """A real `mapping build` into ``tmp_path/out``, stopped (SIGSTOP) while it holds the lock;
    yields (process, out dir) and lets it finish afterwards."""
    out = tmp_path / "out"
    out.mkdir()
    proc = start("build", "--data-dir", str(data_dir), "--out-dir", str(out))
    try:
        read_until(proc, "[3/6] indicators")  # printed once the lock is held
        os.kill(proc.pid, signal.SIGSTOP)
        yield proc, out
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.wait(300)
        proc.stdout.close()
        proc.stderr.close()


def resume_then_finish(first, waiter, timeout: float) -> tuple[str, str]:
    """Once ``waiter`` says it is waiting for the frozen ``first``, let ``first`` go on and
    finish, then collect ``waiter``'s output (killed if it hangs)."""
    try:
        read_until(waiter, f"waiting up to 600 s for pid {first.pid}")
        os.kill(first.pid, signal.SIGCONT)
        assert first.wait(300) == 0, first.stderr.read()
        return waiter.communicate(timeout=timeout)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.communicate()


def test_a_second_build_fails_naming_the_first_or_waits_for_it(frozen_build, data_dir):
    first, out = frozen_build
    t0 = time.monotonic()
    second = subprocess.run(mapping_cmd("build", "--data-dir", str(data_dir), "--out-dir",
                                        str(out), "--quiet"),
                            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert second.returncode == 2, second.stderr
    err = second.stderr
    assert "Traceback" not in err
    assert f"cannot build into {out}: it is locked by pid {first.pid} " in err
    assert f"(mapping build --data-dir {data_dir} --out-dir {out}), started 20" in err
    assert re.search(r"started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", err)
    assert "--wait SECONDS" in err
    assert time.monotonic() - t0 < 120  # it did not wait
    assert not (out / PROCESSED).exists()  # and wrote nothing

    third = start("build", "--data-dir", str(data_dir), "--out-dir", str(out), "--wait", "600")
    _, err3 = resume_then_finish(first, third, timeout=300)
    assert third.returncode == 0, err3
    assert "build complete" in err3
    load_outputs(out / PROCESSED, verify=True)
    assert sorted(p.name for p in out.iterdir()) == [".mapping.lock", "cache", PROCESSED]


def test_a_release_waits_for_or_fails_on_a_build_of_the_same_folder(frozen_build,
                                                                     processed_dir):
    first, out = frozen_build
    previous = out / "previous"
    shutil.copytree(processed_dir, previous / PROCESSED)
    # releasing the previous build into out/releases while the frozen build holds out/
    args = ("release", "--version", "1.0.0", "--notes", "Test release.", "--from",
            str(previous / PROCESSED), "--out", str(out / "releases"))
    refused = subprocess.run(mapping_cmd(*args), cwd=ROOT, env=ENV, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 2, refused.stderr
    assert f"cannot release into {out}: it is locked by pid {first.pid} (mapping build" \
        in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (out / "releases").exists()
    waiting = start(*args, "--wait", "600")
    text, err = resume_then_finish(first, waiting, timeout=120)
    assert waiting.returncode == 0, err
    assert "released v1.0.0" in text
    assert (out / "releases" / "v1.0.0" / "release.json").is_file()


def test_the_lock_is_free_again_when_its_holder_is_killed(tmp_path):
    """flock: the kernel drops the lock of a process killed with SIGKILL (no stale lock)."""
    from mapping.pipeline.locking import LockError, out_dir_lock  # noqa: PLC0415

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from mapping.pipeline.locking import out_dir_lock\n"
         f"with out_dir_lock({str(tmp_path)!r}):\n    print('held', flush=True)\n"
         "    time.sleep(600)\n"], cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockError, match=f"locked by pid {holder.pid} "), \
                out_dir_lock(tmp_path, wait_s=0.5):
            pass
        holder.kill()
        holder.wait(30)
        with out_dir_lock(tmp_path) as path:
            assert f'"pid": {os.getpid()}' in path.read_text()
        assert path.read_text() == ""  # released: nobody is named any more
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(30)
        holder.stdout.close()


def test_a_build_removes_the_staging_folders_left_by_a_killed_build_and_nothing_else(
        data_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    # what a build killed during its publish leaves behind (publish's own mkdtemp call)
    stale = [Path(tempfile.mkdtemp(prefix=f".{PROCESSED}.staging-", dir=out)) for _ in range(2)]
    for folder in stale:
        (folder / "lsoa21.geojson").write_bytes(b"x" * 10_000)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not the build's")
    keep = [out / f".{PROCESSED}.staging-my-notes", out / f"{PROCESSED}.staging-abcd1234",
            out / ".releases.staging-abcd1234", out / "notes"]
    for folder in keep:
        folder.mkdir()
        (folder / "keep.txt").write_text("not the build's")
    link = out / f".{PROCESSED}.staging-link1234"  # matches the pattern, but is a link
    link.symlink_to(elsewhere, target_is_directory=True)
    done = subprocess.run(mapping_cmd("build", "--data-dir", str(data_dir), "--out-dir",
                                      str(out), "--quiet"),
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert not any(folder.exists() for folder in stale)
    for folder in keep:
        assert (folder / "keep.txt").read_text() == "not the build's"
    assert link.is_symlink() and (elsewhere / "keep.txt").read_text() == "not the build's"
    load_outputs(out / PROCESSED, verify=True)
