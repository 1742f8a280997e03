"""torch loads on a worker without the window's thread waiting for the GIL: its libraries are
mapped by a ctypes call (GIL released) before the import, which then reuses them. Each check runs
in a fresh interpreter, because the test process has imported torch long ago."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps (Linux)")


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_libraries_are_mapped_before_torch_is_imported_and_the_import_reuses_them() -> None:
    out = _run(
        "import sys\n"
        "from segstudio.application.runtime import map_torch_libraries\n"
        "mapped = map_torch_libraries()\n"
        "maps = open('/proc/self/maps').read()\n"
        "print('torch' in sys.modules, sorted(p.name for p in mapped), 'libtorch_cpu' in maps)\n"
        "before = maps.count('libtorch_cpu')\n"
        "from segstudio.application.runtime import import_torch\n"
        "import_torch()\n"
        "import torch\n"
        "print(int(torch.ones(3).sum()), open('/proc/self/maps').read().count('libtorch_cpu') == before)\n"
    )
    first, second = out.splitlines()[-2:]
    assert first == "False ['libtorch.so', 'libtorch_global_deps.so'] True"
    assert second == "3 True"  # torch works, and libtorch_cpu was not mapped a second time


def test_threads_importing_together_all_get_torch_and_collection_is_back_on() -> None:
    out = _run(
        "import gc, threading\n"
        "from segstudio.application.runtime import import_torch\n"
        "got = []\n"
        "def work():\n"
        "    import_torch(); import torch; got.append(torch.__version__)\n"
        "threads = [threading.Thread(target=work) for _ in range(3)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(len(got), len(set(got)), gc.isenabled())\n"
    )
    assert out.splitlines()[-1] == "3 1 True"
