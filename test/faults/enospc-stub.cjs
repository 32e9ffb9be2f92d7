/**
 * A write stub for fault tests where no small file system can be mounted: preloaded with
 * `node --require`, it makes writes to files whose path matches WS_FAIL_PATH (a regular expression)
 * fail with ENOSPC once WS_FAIL_AFTER bytes (default 0) were written to them, as a full disk does.
 * Covers the callback API (write streams) and FileHandle writes (fs/promises).
 */
'use strict';
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const { syncBuiltinESMExports } = require('node:module');

const pattern = new RegExp(process.env.WS_FAIL_PATH);
let budget = Number(process.env.WS_FAIL_AFTER ?? 0);
const fds = new Set();
const handles = new WeakSet();

const enospc = (syscall) => Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), { code: 'ENOSPC', errno: -28, syscall });
/** The bytes a write of `n` may still put on disk; throws once the disk is "full". */
function take(n, syscall) {
  if (budget <= 0 && n > 0) throw enospc(syscall);
  const ok = Math.min(n, budget);
  budget -= ok;
  return ok;
}
const size = (data) => (typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);

const open = fs.open;
fs.open = function (path, ...rest) {
  const cb = rest.pop();
  open.call(fs, path, ...rest, (err, fd) => {
    if (!err && pattern.test(String(path))) fds.add(fd);
    cb(err, fd);
  });
};
const write = fs.write;
fs.write = function (fd, buffer, ...rest) {
  if (!fds.has(fd)) return write.call(fs, fd, buffer, ...rest);
  const cb = rest.pop();
  try {
    take(size(buffer), 'write');
  } catch (e) {
    return process.nextTick(cb, e);
  }
  return write.call(fs, fd, buffer, ...rest, cb);
};
const writev = fs.writev;
fs.writev = function (fd, buffers, ...rest) {
  if (!fds.has(fd)) return writev.call(fs, fd, buffers, ...rest);
  const cb = rest.pop();
  try {
    take(buffers.reduce((n, b) => n + b.byteLength, 0), 'write');
  } catch (e) {
    return process.nextTick(cb, e);
  }
  return writev.call(fs, fd, buffers, ...rest, cb);
};

let patched = false;
const popen = fsp.open;
fsp.open = async function (path, ...rest) {
  const fh = await popen.call(fsp, path, ...rest);
  if (pattern.test(String(path))) handles.add(fh);
  if (!patched) {
    patched = true;
    const proto = Object.getPrototypeOf(fh);
    for (const name of ['write', 'writeFile', 'appendFile']) {
      const orig = proto[name];
      proto[name] = async function (data, ...args) {
        if (handles.has(this)) {
          const n = typeof data === 'string' ? Buffer.byteLength(data) : (data?.byteLength ?? 0);
          const ok = budget;
          if (n > ok) {
            // A full disk takes what fits, then fails.
            if (ok > 0) await orig.call(this, Buffer.from(typeof data === 'string' ? data : data).subarray(0, ok));
            budget = 0;
            throw enospc('write');
          }
          budget -= n;
        }
        return orig.call(this, data, ...args);
      };
    }
  }
  return fh;
};
syncBuiltinESMExports();
