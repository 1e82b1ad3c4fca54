"""Builders for metadata: declare an org's components, then write MDAPI and SFDX
backups of them, complete or with defects. The same builders a plugin author uses.

>>> from sfaudit.testing import OrgBuilder
>>> from sfaudit.testing.metadata import MetadataBuilder
>>> meta = MetadataBuilder().add("ApexClass", "InvoiceService").field("Account.Score__c")
>>> data = meta.attach(OrgBuilder().build())     # the emulator and snapshots serve it
>>> meta.write_mdapi("backup/", omit=["ApexClass:InvoiceService"])  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from ..metadata.types import TYPES
from ..sources.model import OrgData

_NS = "http://soap.sforce.com/2006/04/metadata"
#: Types whose component is code with a ``-meta.xml`` companion (MDAPI and SFDX alike).
_CODE = {"ApexClass", "ApexTrigger", "ApexPage", "ApexComponent", "StaticResource"}
_BUNDLE_FILE = {"LightningComponentBundle": "js", "AuraDefinitionBundle": "cmp"}


@dataclass(frozen=True)
class Component:
    """One metadata component: its type, fullName and namespace (None: the customer's)."""

    type: str
    full_name: str
    namespace: str | None = None

    @property
    def spec(self) -> str:
        return f"{self.type}:{self.full_name}"


def _xml(root: str, body: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{_NS}">{body}</{root}>\n'
    ).encode()


class MetadataBuilder:
    """The metadata components of an org, and backups of them."""

    def __init__(self) -> None:
        self.components: list[Component] = []

    # --- declaring ------------------------------------------------------------------

    def add(
        self, type_name: str, *full_names: str, namespace: str | None = None
    ) -> MetadataBuilder:
        """Declare components of ``type_name`` (a key of :data:`sfaudit.metadata.TYPES`);
        with a ``namespace``, names get its prefix (``acmepkg__Util``) unless they have it."""
        if type_name not in TYPES:
            raise ValueError(f"unknown metadata type {type_name!r}")
        kind = TYPES[type_name].kind
        for name in full_names:
            if namespace and kind in ("file", "bundle", "object"):
                name = name if name.startswith(f"{namespace}__") else f"{namespace}__{name}"
            component = Component(type_name, name, namespace)
            if component not in self.components:
                self.components.append(component)
        return self

    def field(self, *full_names: str, namespace: str | None = None) -> MetadataBuilder:
        """Custom fields (``Account.Score__c``); a custom object they name is declared too."""
        for name in full_names:
            obj = name.rpartition(".")[0]
            if "__" in obj and not any(
                c.type == "CustomObject" and c.full_name == obj for c in self.components
            ):
                owner = obj.split("__")[0] if obj.count("__") > 1 else None
                self.add("CustomObject", obj, namespace=owner)
            self.add("CustomField", name, namespace=namespace)
        return self

    def of(self, type_name: str) -> list[Component]:
        return [c for c in self.components if c.type == type_name]

    def inventory(self) -> dict[str, dict[str, object]]:
        """The org's inventory as a source serves it (see :mod:`sfaudit.metadata.org`)."""
        return {
            t: {
                "components": sorted(
                    ({"fullName": c.full_name, "namespace": c.namespace} for c in self.of(t)),
                    key=lambda c: str(c["fullName"]).lower(),
                ),
                "pages": 1,
            }
            for t in TYPES
        }

    def attach(self, data: OrgData) -> OrgData:
        """``data`` with these components as its metadata (the emulator serves them
        through the Tooling API; a snapshot records them)."""
        data.metadata = self.inventory()
        return data

    # --- writing backups ------------------------------------------------------------

    def _kept(self, omit: Iterable[str], include_managed: bool) -> list[Component]:
        left_out = set(omit)
        return [
            c
            for c in self.components
            if c.spec not in left_out and (include_managed or not c.namespace)
        ]

    def _files(self, kept: list[Component], source: bool) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        meta = "-meta.xml" if source else ""
        objects: dict[str, list[Component]] = {}
        for c in kept:
            info = TYPES[c.type]
            if c.type == "CustomObject":
                objects.setdefault(c.full_name, []).insert(0, c)
            elif info.kind == "child":
                objects.setdefault(c.full_name.rpartition(".")[0], []).append(c)
            elif info.kind == "bundle":
                ext = _BUNDLE_FILE[c.type]
                base = f"{info.directory}/{c.full_name}/{c.full_name}.{ext}"
                files[base] = b"// component\n"
                files[base + "-meta.xml"] = _xml("LightningComponentBundle")
            elif info.kind == "folder":
                folder, _, name = c.full_name.rpartition("/")
                base = f"{info.directory}/{folder}/{name}.{info.suffix}"
                if c.type == "EmailTemplate":
                    files[base] = b"Dear {!Contact.FirstName},\n"
                    files[base + "-meta.xml"] = _xml("EmailTemplate")
                else:
                    files[base + meta] = _xml(c.type)
                if folder != "unfiled$public":
                    suffix = f".{info.folder_suffix}-meta.xml" if source else "-meta.xml"
                    files[f"{info.directory}/{folder}{suffix}"] = _xml(f"{c.type}Folder")
            elif c.type in _CODE:
                base = f"{info.directory}/{c.full_name}.{info.suffix}"
                files[base] = b"// code\n"
                files[base + "-meta.xml"] = _xml(c.type)
            else:
                files[f"{info.directory}/{c.full_name}.{info.suffix}{meta}"] = _xml(c.type)
        for obj, parts in objects.items():
            has_object = any(p.type == "CustomObject" for p in parts)
            if source:
                if has_object:
                    files[f"objects/{obj}/{obj}.object-meta.xml"] = _xml("CustomObject")
                for p in parts:
                    if p.type != "CustomObject":
                        info = TYPES[p.type]
                        name = p.full_name.rpartition(".")[2]
                        files[f"objects/{obj}/{info.directory}/{name}.{info.suffix}-meta.xml"] = (
                            _xml(p.type, f"<fullName>{escape(name)}</fullName>")
                        )
            else:
                body = "".join(
                    f"<{TYPES[p.type].xml_tag}><fullName>{escape(p.full_name.rpartition('.')[2])}"
                    f"</fullName></{TYPES[p.type].xml_tag}>"
                    for p in parts
                    if p.type != "CustomObject"
                )
                files[f"objects/{obj}.object"] = _xml("CustomObject", body)
        return files

    def package_xml(self, members: Iterable[Component], extra: Iterable[str] = ()) -> bytes:
        """A package.xml naming ``members`` (and folders), plus ``extra`` ``Type:fullName``."""
        by_type: dict[str, set[str]] = {}
        for c in members:
            by_type.setdefault(c.type, set()).add(c.full_name)
            if TYPES[c.type].kind == "folder":
                folder = c.full_name.rpartition("/")[0]
                if folder != "unfiled$public":
                    by_type[c.type].add(folder)
        for spec in extra:
            kind, _, name = spec.partition(":")
            by_type.setdefault(kind, set()).add(name)
        body = "".join(
            "<types>"
            + "".join(f"<members>{escape(m)}</members>" for m in sorted(names))
            + f"<name>{kind}</name></types>"
            for kind, names in sorted(by_type.items())
        )
        return _xml("Package", body + "<version>60.0</version>")

    def write_mdapi(
        self,
        path: str | Path,
        *,
        omit: Iterable[str] = (),
        include_managed: bool = False,
        zip: bool = False,
        manifest_extra: Iterable[str] = (),
        pad_to: int | None = None,
        mtime: dt.datetime | None = None,
    ) -> Path:
        """An MDAPI retrieve of the components: a folder (``package.xml`` at its top), or
        with ``zip`` a ZIP with ``unpackaged/`` at its top.

        :param omit: ``Type:fullName`` components to leave out (a defect), also from
            package.xml unless listed in ``manifest_extra``.
        :param manifest_extra: ``Type:fullName`` members package.xml lists but the
            backup lacks (a retrieve cut short).
        :param pad_to: add files that hold no component until the backup holds this
            many files (``10_000``: a retrieve at its cap).
        :param mtime: the files' (or ZIP entries') date.
        """
        kept = self._kept(omit, include_managed)
        files = {"package.xml": self.package_xml(kept, manifest_extra), **self._files(kept, False)}
        _pad(files, pad_to)
        return _write(Path(path), files, zip=zip, root="unpackaged/" if zip else "", mtime=mtime)

    def write_sfdx(
        self,
        path: str | Path,
        *,
        omit: Iterable[str] = (),
        include_managed: bool = False,
        package_dir: str = "force-app",
        pad_to: int | None = None,
        mtime: dt.datetime | None = None,
    ) -> Path:
        """An SFDX project of the components (source format, objects decomposed)."""
        kept = self._kept(omit, include_managed)
        project = {
            "packageDirectories": [{"path": package_dir, "default": True}],
            "namespace": "",
            "sourceApiVersion": "60.0",
        }
        files = {"sfdx-project.json": json.dumps(project, indent=2).encode()}
        prefix = f"{package_dir}/main/default/"
        files.update({prefix + k: v for k, v in self._files(kept, True).items()})
        _pad(files, pad_to)
        return _write(Path(path), files, zip=False, root="", mtime=mtime)


def _pad(files: dict[str, bytes], pad_to: int | None) -> None:
    n = 0
    while pad_to is not None and len(files) < pad_to:
        files[f"documents/Padding/pad{n:05d}.txt"] = b"."
        n += 1


def _write(
    path: Path, files: dict[str, bytes], *, zip: bool, root: str, mtime: dt.datetime | None
) -> Path:
    if zip:
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = (mtime or dt.datetime(2026, 11, 20, 9, 0)).timetuple()[:6]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, content in files.items():
                zf.writestr(zipfile.ZipInfo(root + name, date_time=stamp), content)
        return path
    for name, content in files.items():
        target = path / root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        if mtime is not None:
            seconds = mtime.replace(tzinfo=mtime.tzinfo or dt.timezone.utc).timestamp()
            os.utime(target, (seconds, seconds))
    return path


__all__ = ["Component", "MetadataBuilder"]
