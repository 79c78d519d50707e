'use strict';
// Where a macvlanctl run spends its time, from inside the process:
//
//   node -r ./bench/phase-hooks.cjs bin/macvlanctl plan …        (inside a lab host: nsenter --net=…)
//
// records when the launcher compiles and runs the bundle (vm.Script), when child_process and http are
// first required, every execFile (with its options) and every HTTP request to the engine, and prints
// the timeline (ms since the process started; `preload` is about where `node -e 0` starts its code) on stderr at
// exit, or appends it as one JSON line {argv, code, marks: [[name, ms]]} to $MACVLANCTL_PHASES_OUT.
// Measurement only: nothing here is loaded by the tool itself.
const { performance } = require('node:perf_hooks');
const { appendFileSync } = require('node:fs');
const marks = [['preload', performance.now()]];
const mark = (name) => marks.push([name, performance.now()]);

const vm = require('node:vm');
const Script = vm.Script;
vm.Script = new Proxy(Script, {
  construct(target, args) {
    mark('compile>');
    const s = Reflect.construct(target, args);
    mark(`compile< cache=${args[1]?.cachedData ? (s.cachedDataRejected ? 'rejected' : 'used') : 'none'}`);
    return s;
  },
});
const runInThisContext = Script.prototype.runInThisContext;
Script.prototype.runInThisContext = function (...args) {
  const fn = runInThisContext.apply(this, args);
  return typeof fn !== 'function' ? fn : function (...a) { mark('evaluate>'); const r = fn.apply(this, a); mark('evaluate<'); return r; };
};

// child_process and http are patched when the bundle first requires them, so that their own load
// time stays where it belongs.
const patched = new Set();
function patchChildProcess(cp) {
  const execFile = cp.execFile;
  cp.execFile = function (file, args, opts, cb) {
    const name = `exec ${file} ${(args ?? []).filter((a) => a.startsWith('-')).join(' ')}`;
    mark(`${name}>`);
    const child = execFile.call(this, file, args, opts, (...r) => { mark(`${name}<`); cb?.(...r); });
    mark(`${name} spawned`);
    return child;
  };
}
function patchHttp(http) {
  const request = http.request;
  http.request = function (...args) {
    const o = typeof args[0] === 'object' ? args[0] : args[1] ?? {};
    const name = `http ${o.method ?? 'GET'} ${(o.path ?? '').replace(/[0-9a-f]{64}/, '<id>')}`;
    mark(`${name}>`);
    const req = request.apply(this, args);
    req.on('response', (res) => res.on('end', () => mark(`${name}<`)));
    return req;
  };
}
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  const id = request.replace(/^node:/, '');
  const first = (id === 'child_process' || id === 'http') && !patched.has(id);
  if (first) mark(`require ${id}>`);
  const exports = load.call(this, request, ...rest);
  if (first) {
    patched.add(id);
    (id === 'http' ? patchHttp : patchChildProcess)(exports);
    mark(`require ${id}<`);
  }
  return exports;
};

process.on('exit', (code) => {
  mark('exit');
  if (process.env.MACVLANCTL_PHASES_OUT) {
    appendFileSync(process.env.MACVLANCTL_PHASES_OUT, JSON.stringify({ argv: process.argv.slice(2), code, marks }) + '\n');
  } else {
    process.stderr.write(`phases (ms since process start):\n${marks.map(([n, t]) => `${t.toFixed(1).padStart(7)}  ${n}`).join('\n')}\n`);
  }
});
