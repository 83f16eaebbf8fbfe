// Preloaded (node --import) into a test or benchmark's `orch server` child: fd 3 is a pipe from
// the parent; when the parent dies the kernel closes it, and the server shuts down (SIGTERM, its
// graceful path), then is killed if it has not exited 10 s later. Test harness only: never part of orch.
import net from 'node:net';

const fd = Number(process.env.ORCH_PARENT_WATCH_FD);
delete process.env.ORCH_PARENT_WATCH_FD;
if (Number.isInteger(fd) && fd > 2) {
  const lifeLine = new net.Socket({ fd, readable: true, writable: false });
  const parentGone = () => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 10_000).unref();
  };
  lifeLine.on('end', parentGone);
  lifeLine.on('error', parentGone);
  lifeLine.resume();
  lifeLine.unref();
}
