// Owns the bench's metrics switch: preloaded with `node --require` into one more server child, it lets a
// request that carries `x-bench-metrics: off` run with the request counting and the observer reports
// of src/http/metrics.ts turned into no-ops (readiness still hears of committed writes). So metrics on
// and off are timed A/B in ONE process, call by call, with the same heap, compiled code and database;
// the product itself has no such switch. The A/B sends one request at a time to this server, so the
// switch read when a request arrives holds until its answer is counted. It fails loudly if what it
// patches has moved.
import http from 'node:http';
import * as metrics from '../src/http/metrics';
import { METRICS_SWITCH_HEADER } from './metricsSwitchHeader';

const proto = metrics.AppMetrics?.prototype as unknown as Record<string, unknown> | undefined;
if (!proto || typeof proto.request !== 'function' || typeof proto.transaction !== 'function') {
  throw new Error(
    'bench/metricsSwitch: AppMetrics (src/http/metrics) no longer has request()/transaction(); update the bench',
  );
}

let off = false;
const emit = http.Server.prototype.emit as (this: http.Server, event: string, ...args: unknown[]) => boolean;
http.Server.prototype.emit = function (this: http.Server, event: string, ...args: unknown[]) {
  if (event === 'request') off = (args[0] as http.IncomingMessage).headers[METRICS_SWITCH_HEADER] === 'off';
  return emit.call(this, event, ...args);
} as typeof http.Server.prototype.emit;

type Method = (this: unknown, ...args: unknown[]) => unknown;
const unlessOff = (name: string, whenOff: Method = () => undefined) => {
  const original = proto[name] as Method | undefined;
  if (typeof original !== 'function') return;
  proto[name] = function (this: unknown, ...args: unknown[]) {
    return off ? whenOff.apply(this, args) : original.apply(this, args);
  };
};
unlessOff('request');
unlessOff('transaction', function (this: unknown, ...args: unknown[]) {
  if (args[2] === 'committed') (this as { storage: { wroteOk(): void } }).storage.wroteOk();
});
for (const name of ['composite', 'batch', 'connectorStep']) unlessOff(name);
