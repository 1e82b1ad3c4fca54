"""The backup's inventory: which components a metadata retrieve holds.

Reads an MDAPI folder or ZIP (``package.xml`` plus type folders, ``unpackaged/`` at the
top of a retrieved ZIP; custom fields and validation rules inside ``objects/X.object``)
and an SFDX project (``sfdx-project.json``, files under each package directory with
``-meta.xml`` suffixes, objects decomposed into ``objects/X/fields/``). Components are
named by fullName exactly as package.xml names them. ZIPs are streamed: only
``.object`` members and ``package.xml`` are read, member by member.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO
from xml.etree import ElementTree

from ..errors import InputError
from .types import BY_DIRECTORY, TYPES

#: One Metadata API retrieve holds at most this many files.
RETRIEVE_FILE_LIMIT = 10_000


@dataclass
class MetadataBackup:
    """What a metadata backup holds.

    :param layout: ``mdapi-folder``, ``mdapi-zip`` or ``sfdx``.
    :param components: type → the fullNames of its components in the backup.
    :param manifest: ``package.xml``'s types → members (``*`` kept), or None.
    :param files: files in the backup (the retrieve's, package.xml included).
    :param newest: the newest file's date (a ZIP's entries, else file times).
    """

    path: Path
    layout: str
    components: dict[str, set[str]] = field(default_factory=dict)
    folders: dict[str, set[str]] = field(default_factory=dict)
    manifest: dict[str, list[str]] | None = None
    files: int = 0
    newest: dt.datetime | None = None

    def add(self, type_name: str, full_name: str) -> None:
        self.components.setdefault(type_name, set()).add(full_name)

    def has(self, type_name: str) -> set[str]:
        return self.components.get(type_name, set())


Opener = Callable[[], AbstractContextManager[IO[bytes]]]


def read_backup(path: str | Path) -> MetadataBackup:
    """The inventory of the backup at ``path``; an InputError names what is wrong."""
    p = Path(path)
    if not p.exists():
        raise InputError(
            f"metadata backup {p} does not exist",
            hint="set metadata.path (or pass --metadata) to an MDAPI folder or ZIP, "
            "or an SFDX project",
        )
    if p.is_file():
        return _read_zip(p)
    if (p / "sfdx-project.json").is_file():
        return _read_sfdx(p)
    for root in (p, p / "unpackaged"):
        if (root / "package.xml").is_file():
            return _read_folder(root, MetadataBackup(p, "mdapi-folder"), manifest=True)
    if any((p / d).is_dir() for d in BY_DIRECTORY):
        return _read_folder(p, MetadataBackup(p, "mdapi-folder"), manifest=False)
    raise InputError(
        f"{p} is not a metadata backup: no package.xml, no sfdx-project.json and no "
        "type folders (classes/, objects/, ...)",
        hint="point metadata.path at the folder or ZIP of a Metadata API retrieve "
        "(sf project retrieve start), or at an SFDX project",
    )


def _read_zip(p: Path) -> MetadataBackup:
    out = MetadataBackup(p, "mdapi-zip")
    try:
        with zipfile.ZipFile(p) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            names = [i.filename for i in infos]
            root = _zip_root(names)
            for info in infos:
                out.files += 1
                stamp = dt.datetime(*info.date_time)
                out.newest = stamp if out.newest is None else max(out.newest, stamp)
                rel = info.filename[len(root) :] if info.filename.startswith(root) else None
                if rel is None:
                    continue

                def opener(i: zipfile.ZipInfo = info) -> AbstractContextManager[IO[bytes]]:
                    return zf.open(i)

                if rel == "package.xml":
                    out.manifest = _manifest(opener, f"{p}:{info.filename}")
                    continue
                _classify(out, PurePosixPath(rel).parts, opener, f"{p}:{info.filename}")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(
            f"metadata backup {p} is not a readable ZIP ({exc})",
            hint="retrieve it again (sf project retrieve start --target-metadata-dir)",
        ) from None
    return out


def _zip_root(names: list[str]) -> str:
    """The folder inside a ZIP that holds package.xml (``unpackaged/`` when retrieved)."""
    manifests = sorted((n for n in names if PurePosixPath(n).name == "package.xml"), key=len)
    if manifests:
        return manifests[0][: -len("package.xml")]
    return ""


def _read_folder(root: Path, out: MetadataBackup, *, manifest: bool) -> MetadataBackup:
    for file in sorted(root.rglob("*")):
        if not file.is_file():
            continue
        _count(out, file)
        rel = file.relative_to(root).parts
        opener = _file_opener(file)
        if manifest and rel == ("package.xml",):
            out.manifest = _manifest(opener, str(file))
            continue
        _classify(out, rel, opener, str(file))
    return out


def _read_sfdx(p: Path) -> MetadataBackup:
    out = MetadataBackup(p, "sfdx")
    project = p / "sfdx-project.json"
    try:
        config = json.loads(project.read_text(encoding="utf-8"))
        dirs = [str(d["path"]) for d in config.get("packageDirectories") or []]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{project}: not a valid sfdx-project.json ({exc})",
            hint="it needs packageDirectories: [{path: force-app}]",
        ) from None
    if not dirs:
        raise InputError(f"{project}: packageDirectories is empty", hint="list force-app there")
    for file in sorted(p.rglob("*")):
        if file.is_file() and ".sfdx" not in file.relative_to(p).parts[:1]:
            _count(out, file)
    for d in dirs:
        base = p / d
        for file in sorted(base.rglob("*")) if base.is_dir() else []:
            if not file.is_file():
                continue
            rel = file.relative_to(base).parts
            at = next((i for i, part in enumerate(rel) if part in BY_DIRECTORY), None)
            if at is not None:
                _classify(out, rel[at:], _file_opener(file), str(file))
    manifest = p / "manifest" / "package.xml"
    if manifest.is_file():
        out.manifest = _manifest(_file_opener(manifest), str(manifest))
    return out


def _count(out: MetadataBackup, file: Path) -> None:
    out.files += 1
    stamp = dt.datetime.fromtimestamp(file.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None)
    out.newest = stamp if out.newest is None else max(out.newest, stamp)


def _file_opener(file: Path) -> Opener:
    def opener() -> AbstractContextManager[IO[bytes]]:
        return file.open("rb")

    return opener


def _strip(name: str, suffix: str) -> str | None:
    """``X`` from ``X.<suffix>`` or ``X.<suffix>-meta.xml``; None otherwise."""
    for end in (f".{suffix}-meta.xml", f".{suffix}"):
        if suffix and name.endswith(end) and len(name) > len(end):
            return name[: -len(end)]
    return None


def _classify(out: MetadataBackup, parts: tuple[str, ...], opener: Opener, where: str) -> None:
    """Record the component a file (``classes/X.cls``...) belongs to, if any."""
    if len(parts) < 2 or parts[0] not in BY_DIRECTORY:
        return
    info = BY_DIRECTORY[parts[0]]
    rest = parts[1:]
    if info.kind == "bundle":
        if len(rest) >= 2:
            out.add(info.name, rest[0])
    elif info.kind == "file":
        if len(rest) == 1:
            name = _strip(rest[0], info.suffix)
            if name is not None:
                out.add(info.name, name)
    elif info.kind == "folder":
        if len(rest) == 1:
            folder = _strip(rest[0], info.folder_suffix) or (
                rest[0][: -len("-meta.xml")] if rest[0].endswith("-meta.xml") else None
            )
            if folder:
                out.folders.setdefault(info.name, set()).add(folder)
        else:
            name = _strip(rest[-1], info.suffix)
            if name is not None:
                out.add(info.name, "/".join((*rest[:-1], name)))
    else:  # objects
        _classify_object(out, rest, opener, where)


def _classify_object(
    out: MetadataBackup, rest: tuple[str, ...], opener: Opener, where: str
) -> None:
    if len(rest) == 1:  # MDAPI: objects/X.object, children inside
        obj = _strip(rest[0], "object")
        if obj is None or rest[0].endswith("-meta.xml"):
            return
        out.add("CustomObject", obj)
        for tag, name in _object_children(opener, where):
            child = next(
                (t for t in TYPES.values() if t.kind == "child" and t.xml_tag == tag), None
            )
            if child is not None:
                out.add(child.name, f"{obj}.{name}")
        return
    obj = rest[0]
    if len(rest) == 2:
        if _strip(rest[1], "object") == obj:
            out.add("CustomObject", obj)
        return
    if len(rest) == 3:
        child = next(
            (t for t in TYPES.values() if t.kind == "child" and t.directory == rest[1]), None
        )
        leaf = _strip(rest[2], child.suffix) if child else None
        if child is not None and leaf is not None:
            out.add(child.name, f"{obj}.{leaf}")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _object_children(opener: Opener, where: str) -> Iterator[tuple[str, str]]:
    """(element, fullName) of each direct child of an MDAPI ``.object`` file that
    names a component (``<fields><fullName>Score__c</fullName>...``), streamed."""
    depth = 0
    current: str | None = None
    try:
        with opener() as stream:
            for event, elem in ElementTree.iterparse(stream, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if depth == 2:
                        current = _local(elem.tag)
                    continue
                if depth == 3 and current and _local(elem.tag) == "fullName":
                    yield current, (elem.text or "").strip()
                if depth == 2:
                    elem.clear()
                depth -= 1
    except ElementTree.ParseError as exc:
        raise InputError(
            f"{where}: not valid XML ({exc})", hint="retrieve the object again"
        ) from None


def _manifest(opener: Opener, where: str) -> dict[str, list[str]]:
    """package.xml's ``<types>``: name → members."""
    try:
        with opener() as stream:
            root = ElementTree.parse(stream).getroot()
    except ElementTree.ParseError as exc:
        raise InputError(f"{where}: not valid XML ({exc})", hint="retrieve again") from None
    out: dict[str, list[str]] = {}
    for types in root:
        if _local(types.tag) != "types":
            continue
        name = next((c.text or "" for c in types if _local(c.tag) == "name"), "").strip()
        members = [(c.text or "").strip() for c in types if _local(c.tag) == "members"]
        if name:
            out.setdefault(name, []).extend(members)
    return out


__all__ = ["RETRIEVE_FILE_LIMIT", "MetadataBackup", "read_backup"]
