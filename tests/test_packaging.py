"""A wheel (not an editable install) carries everything: the built-in sources.yaml and the mirror's data.

The wheel is built from this checkout and installed into a fresh virtual environment in a
temporary directory, without the network: the wheel itself with ``--no-index --no-deps``,
its dependencies taken from the test's own environment through a ``.pth`` line (they are
the same versions the project was installed with).  Every command then runs from a
directory that has no ``sources.yaml``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "real"


def _run(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env=env, check=False)


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_runs_from_anywhere(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", ROOT, "-w", wheels, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("crawler-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "crawler/data/sources.yaml" in names
    assert any(n.startswith("crawler/mirror/data/") for n in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-index", "--no-deps",
                     wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                     cwd=tmp_path).stdout.strip())
    # The dependencies: this environment's site-packages, after the fresh one (a plain path line, so the
    # editable install's own .pth finder there is not activated).
    paths = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "zz_dependencies.pth").write_text("\n".join(paths) + "\n", encoding="utf-8")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    crawler = env_dir / "bin" / "crawler"
    where = _run(python, "-c", "import crawler, crawler.config as c; print(crawler.__file__); "
                               "print(c.default_sources_path())", cwd=elsewhere)
    module_file, default_sources = where.stdout.split()
    assert Path(module_file).is_relative_to(site), where.stdout  # the wheel's copy, not this checkout
    assert Path(default_sources) == site / "crawler" / "data" / "sources.yaml"

    top = _run(crawler, "--help", cwd=elsewhere)
    assert top.returncode == 0 and "COMMAND" in top.stdout
    helped = _run(crawler, "crawl", "--help", cwd=elsewhere)
    assert helped.returncode == 0
    assert "default: ./sources.yaml if present, else the built-in configuration" in " ".join(helped.stdout.split())

    url = "https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html"
    parsed = _run(crawler, "parse", "--url", url, REAL / "baocantho-a80443.html", cwd=elsewhere)
    assert parsed.returncode == 0, parsed.stderr
    assert parsed.stdout == (REAL / "baocantho-a80443.expected.txt").read_text(encoding="utf-8") + "\n"

    archive = tmp_path / "demo-archive"
    demo = _run(crawler, "demo", "--articles", "3", "--archive", archive, cwd=elsewhere)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "0 differ, 0 articles missing" in demo.stdout
    assert list(elsewhere.iterdir()) == []  # nothing written where it ran
