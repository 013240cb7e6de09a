"""The process jupyter_client starts as "the kernel" when kernels come from the fork server.

It runs outside the sandbox, imports nothing but the standard library (it starts in ~20 ms),
and hands its standard streams, its environment and the kernel's command line to the fork
server, which forks a sandboxed kernel for it. It then waits: it exits with the kernel's exit
status, and when it is killed or interrupted its connection closes and the server kills the
kernel with everything it started. So jupyter_client can treat it exactly as it treats a kernel
process (poll, wait, kill), as it treated bubblewrap before.

Usage: python -I -S fork_launcher.py SOCKET MEMORY_LIMIT KERNEL_COMMAND...  (MEMORY_LIMIT in bytes, 0: none)
"""
import json
import os
import signal
import socket
import sys


def main(argv) -> int:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # like bubblewrap: Ctrl-C ends the kernel
    path, limit, command = argv[1], int(argv[2]), argv[3:]
    request = {"argv": command, "env": dict(os.environ), "cwd": os.getcwd(), "memory_limit": limit}
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
    except OSError as error:
        print(f"kit fork server unreachable at {path}: {error}", file=sys.stderr)
        return 70
    reply = b""
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            break
        reply += chunk
    try:
        answer = json.loads(reply.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        print("kit fork server: the kernel's sandbox ended without an exit status", file=sys.stderr)
        return 70
    if answer.get("error"):
        print(f"kit fork server: {answer['error']}", file=sys.stderr)
        return 70
    return int(answer.get("exit", 1))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
