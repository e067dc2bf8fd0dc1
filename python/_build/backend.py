"""A PEP 517 build backend in the standard library alone, for this package.

Why not setuptools: `pip install ./python` must work on a machine with no
network and no `wheel` package (setuptools before 70.1 needs it to build
a wheel), and the package has nothing to compile: a wheel here is a zip of
multiproc/*.py and three metadata files.
"""

import base64
import hashlib
import os
import tarfile
import zipfile

NAME = "multiproc"
VERSION = "0.1.0"
SUMMARY = ("Python side of multiproc: queues, values, arrays and locks shared "
           "with Go processes over /dev/shm")
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "py3-none-any"


def _metadata():
    readme = ""
    path = os.path.join(HERE, "README.md")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            readme = f.read()
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nRequires-Python: >=3.8\n"
            "Classifier: Operating System :: POSIX :: Linux\n"
            "Description-Content-Type: text/markdown\n\n%s" % (NAME, VERSION, SUMMARY, readme))


def _sources():
    pkg = os.path.join(HERE, NAME)
    for fn in sorted(os.listdir(pkg)):
        if fn.endswith(".py"):
            yield os.path.join(pkg, fn), NAME + "/" + fn


def _digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _dist_info_files():
    di = "%s-%s.dist-info" % (NAME, VERSION)
    return di, [
        (di + "/METADATA", _metadata().encode()),
        (di + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: multiproc-backend\nRoot-Is-Purelib: true\nTag: %s\n"
                         % TAG).encode()),
        (di + "/top_level.txt", (NAME + "\n").encode()),
    ]


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    di, files = _dist_info_files()
    for name, data in files:
        path = os.path.join(metadata_directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return di


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    di, meta = _dist_info_files()
    name = "%s-%s-%s.whl" % (NAME, VERSION, TAG)
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for src, arc in _sources():
            with open(src, "rb") as f:
                data = f.read()
            z.writestr(arc, data)
            record.append("%s,%s,%d" % (arc, _digest(data), len(data)))
        for arc, data in meta:
            z.writestr(arc, data)
            record.append("%s,%s,%d" % (arc, _digest(data), len(data)))
        record.append("%s/RECORD,," % di)
        z.writestr(di + "/RECORD", "\n".join(record) + "\n")
    return name


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, VERSION)
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ["pyproject.toml", "README.md", "_build/backend.py"]:
            t.add(os.path.join(HERE, rel), base + "/" + rel)
        for src, arc in _sources():
            t.add(src, base + "/" + arc)
    return name
