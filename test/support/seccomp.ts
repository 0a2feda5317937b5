/**
 * Runs a command the way a container's seccomp profile would: with io_uring refused. Docker's
 * default profile (and others) answer io_uring_setup with EPERM; `withoutIoUring(argv)` gives the
 * argv that runs `argv` under a seccomp filter doing the same, installed by python3 (which can call
 * prctl; Node cannot) before it execs the command. io_uring_setup is system call 425 on every Linux
 * architecture (the numbers of system calls added since 5.1 are shared).
 */
const SCRIPT = `
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
EPERM, IO_URING_SETUP = 1, 425
insns = [
  (0x20, 0, 0, 0),                        # load the system call number
  (0x15, 0, 1, IO_URING_SETUP),           # io_uring_setup?
  (0x06, 0, 0, 0x00050000 | EPERM),       # yes: fail with EPERM
  (0x06, 0, 0, 0x7fff0000),               # no: allow
]
code = b''.join(struct.pack('HBBI', *i) for i in insns)
buf = ctypes.create_string_buffer(code, len(code))
class Prog(ctypes.Structure):
  _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
prog = Prog(len(insns), ctypes.addressof(buf))
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
  sys.exit('seccomp filter refused: errno %d' % ctypes.get_errno())
os.execvp(sys.argv[1], sys.argv[1:])
`;

/** The argv that runs `argv` with io_uring_setup refused (EPERM), as in a default Docker container. */
export function withoutIoUring(argv: readonly string[]): string[] {
  return ['python3', '-c', SCRIPT, ...argv];
}
