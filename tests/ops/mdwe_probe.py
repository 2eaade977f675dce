"""Run EdgeHub's runtime stack under MemoryDenyWriteExecute=yes, as systemd enforces it.

Run as a script (``python mdwe_probe.py``): it installs the seccomp filter
systemd 252 builds for MemoryDenyWriteExecute=yes on x86_64, which cannot be
undone, then serves HTTP and WebSocket through uvicorn on uvloop and httptools,
signs with cryptography and queries SQLite. It prints one line per check and
exits non-zero on the first failure.

The filter refuses with EPERM: mmap() asking for memory both writable and
executable, mprotect() and pkey_mprotect() adding PROT_EXEC, shmat() with
SHM_EXEC. A JIT, or libffi without static trampolines, would trip it.
"""

from __future__ import annotations

import ctypes
import mmap
import struct

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW = 0x7FFF0000
RET_EPERM = 0x00050000 | 1
LD_W_ABS, JEQ_K, JSET_K, AND_K, RET_K = 0x20, 0x15, 0x45, 0x54, 0x06
# Offsets into struct seccomp_data: nr, arch, then args[6] from 16; the low
# 32 bits of args[2] (the prot or shmflg argument) on little-endian x86_64.
NR, ARCH, ARG2 = 0, 4, 16 + 8 * 2
SYS_MMAP, SYS_MPROTECT, SYS_SHMAT, SYS_PKEY_MPROTECT = 9, 10, 30, 329
PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000

# (code, jump if true, jump if false, k); jumps count instructions skipped.
PROGRAM = [
    (LD_W_ABS, 0, 0, ARCH),
    (JEQ_K, 0, 14, AUDIT_ARCH_X86_64),  # 1: another ABI → allow (16)
    (LD_W_ABS, 0, 0, NR),
    (JEQ_K, 4, 0, SYS_MMAP),  # 3 → 8
    (JEQ_K, 6, 0, SYS_MPROTECT),  # 4 → 11
    (JEQ_K, 5, 0, SYS_PKEY_MPROTECT),  # 5 → 11
    (JEQ_K, 6, 0, SYS_SHMAT),  # 6 → 13
    (RET_K, 0, 0, RET_ALLOW),
    (LD_W_ABS, 0, 0, ARG2),  # 8: mmap
    (AND_K, 0, 0, PROT_WRITE | PROT_EXEC),
    (JEQ_K, 4, 5, PROT_WRITE | PROT_EXEC),  # 10 → 15 deny, 16 allow
    (LD_W_ABS, 0, 0, ARG2),  # 11: mprotect, pkey_mprotect
    (JSET_K, 2, 3, PROT_EXEC),  # 12 → 15, 16
    (LD_W_ABS, 0, 0, ARG2),  # 13: shmat
    (JSET_K, 0, 1, SHM_EXEC),  # 14 → 15, 16
    (RET_K, 0, 0, RET_EPERM),  # 15
    (RET_K, 0, 0, RET_ALLOW),  # 16
]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def deny_write_execute() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *op) for op in PROGRAM))
    prog = SockFprog(len(PROGRAM), ctypes.addressof(code))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")


def check_filter_bites() -> None:
    try:
        mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_WRITE | mmap.PROT_EXEC)
    except PermissionError:
        print("filter: writable+executable mmap refused")
        return
    raise SystemExit("filter: writable+executable mmap was allowed; the probe proves nothing")


def check_stack() -> None:
    import asyncio
    import sqlite3

    import httpx
    import jwt
    import uvicorn
    import uvloop
    import websockets
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from litestar import Litestar, WebSocket, get, websocket

    import hub.settings  # pydantic-core

    hub.settings.Settings(store="probe")
    sqlite3.connect(":memory:").execute("select 1").fetchone()
    ed25519.Ed25519PrivateKey.generate().sign(b"ticket")
    jwt.decode(jwt.encode({"sub": "1"}, "k" * 32), "k" * 32, algorithms=["HS256"])
    print("stack: pydantic, sqlite3, cryptography, jwt")

    @get("/")
    async def index() -> dict[str, bool]:
        return {"ok": True}

    @websocket("/ws")
    async def echo(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text(await socket.receive_text())
        await socket.close()

    async def serve() -> None:
        config = uvicorn.Config(
            Litestar([index, echo]),
            host="127.0.0.1",
            port=0,
            loop="none",
            http="httptools",
            ws="auto",  # what `edgehub serve` gets unless told otherwise
            log_level="warning",
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to await
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/")
            assert response.json() == {"ok": True}
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            await ws.send("bump")
            assert await ws.recv() == "bump"
        server.should_exit = True
        await task

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve())
    print("stack: uvicorn on uvloop with httptools served HTTP and WebSocket")


if __name__ == "__main__":
    deny_write_execute()
    check_filter_bites()
    check_stack()
