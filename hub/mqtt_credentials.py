"""MQTT logins and ACL blocks for kitchen devices, as ``systemd/mosquitto/edgehub.acl`` lays out.

Each device logs in to Mosquitto as itself (username = device id) with a
password of its own, and the ACL lets it read and write only its station's
topics; the pattern line already in the installed ACL lets it report on itself
(``devices/<id>/#``) and no other device. This module writes the password-file
entry through ``mosquitto_passwd`` (Mosquitto's own hashing) and keeps one
marked block per device in the ACL file, replaced when the device is added
again. It is the one place that knows that layout: the ``edgehub device add``
command and the kitchen bridge both call ``add_device``.

Ids and station names are restricted to letters, digits, ``_`` and ``-``:
anything else (``+``, ``#``, ``/``) would widen an ACL line to other topics.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hub.mqtt_topics import Topics, is_name

RESERVED = frozenset({"edgehub-bridge"})
"""The bridge's own MQTT login; no device may take it."""
KINDS = ("kds", "printer", "board")
DEFAULT_PASSWD_FILE = Path("/etc/mosquitto/edgehub.passwd")
DEFAULT_ACL_FILE = Path("/etc/mosquitto/edgehub.acl")
_MARK = "# edgehub device "


class CredentialError(ValueError):
    """A device id, station or kind that cannot be given a login."""


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    kind: str
    station: str | None

    def __post_init__(self) -> None:
        if not is_name(self.id) or self.id in RESERVED:
            raise CredentialError(f"device id {self.id!r}: letters, digits, _ and - only")
        if self.kind not in KINDS:
            raise CredentialError(f"kind must be one of {', '.join(KINDS)}")
        if self.kind == "board":
            if self.station is not None:
                raise CredentialError("an order-ready board belongs to no station")
        elif self.station is None or not is_name(self.station):
            raise CredentialError(f"a {self.kind} needs a --station: letters, digits, _ and -")


def acl_block(store: str, device: Device) -> str:
    """The ACL lines of one device, with the marker line that lets us find them again."""
    if not is_name(store):
        raise CredentialError(f"store code {store!r}: letters, digits, _ and - only")
    topics = Topics(store)
    where = f"station {device.station}" if device.station else "no station"
    lines = [f"{_MARK}{device.id} ({device.kind}, {where})", f"user {device.id}"]
    station = device.station
    if device.kind in ("kds", "printer"):
        # Device.__post_init__ refuses a kds or printer without a station; were one to
        # get here anyway, it must fail, not get a block that grants it nothing.
        assert station is not None, f"{device.kind} {device.id} has no station"
        lines.append(f"topic read {topics.jobs(station)}")
        if device.kind == "kds":
            # It bumps, and hears why the hub refused a bump.
            lines.append(f"topic write {topics.bump(station)}")
            lines.append(f"topic read {topics.errors(station)}")
    elif device.kind == "board":
        lines.append(f"topic read {topics.ready_board}")
    return "\n".join(lines) + "\n"


def set_acl_block(acl_file: Path, store: str, device: Device) -> None:
    """Append the device's block, or replace the one it already has."""
    text = acl_file.read_text() if acl_file.exists() else ""
    kept = _without_block(text, device.id)
    if kept and not kept.endswith("\n"):
        kept += "\n"
    _write_atomically(acl_file, kept + "\n" + acl_block(store, device))


def _without_block(text: str, device_id: str) -> str:
    """The ACL without this device's marked block (from its marker to the next blank line)."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if line.startswith(f"{_MARK}{device_id} "):
            skipping = True
            if out and out[-1].strip() == "":
                out.pop()  # the blank line that separated it
            continue
        if skipping and line.strip() == "":
            skipping = False
            continue
        if not skipping:
            out.append(line)
    return "".join(out)


def set_password(passwd_file: Path, username: str, password: str) -> None:
    """Add or replace the login with ``mosquitto_passwd`` (password on stdin, not argv)."""
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        raise CredentialError("mosquitto_passwd is not installed (apt-get install mosquitto)")
    create = [] if passwd_file.exists() else ["-c"]
    result = subprocess.run(
        [tool, *create, str(passwd_file), username],
        input=f"{password}\n{password}\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise CredentialError(f"mosquitto_passwd failed: {result.stderr.strip()}")


def add_device(
    store: str,
    device: Device,
    *,
    passwd_file: Path = DEFAULT_PASSWD_FILE,
    acl_file: Path = DEFAULT_ACL_FILE,
) -> str:
    """Give the device a new password and its ACL block; returns the password.

    The password exists only in the caller's hands after this: the file holds a
    salted hash. Mosquitto reads both files again on ``systemctl reload mosquitto``.
    """
    acl_block(store, device)  # validates the store code before anything is written
    password = secrets.token_urlsafe(18)
    set_password(passwd_file, device.id, password)
    set_acl_block(acl_file, store, device)
    return password


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one rename, keeping its owner and mode.

    The installer makes the ACL ``mosquitto:mosquitto`` 0600; a rewrite by root
    must not leave it unreadable to the broker, nor readable to anyone else.
    """
    old = path.stat() if path.exists() else None
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if old is not None:
        os.fchmod(fd, old.st_mode & 0o777)
        if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
            os.fchown(fd, old.st_uid, old.st_gid)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
