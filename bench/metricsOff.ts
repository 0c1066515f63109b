// Owns the bench's "metrics disabled" server: preloaded with `node --require` into a second server
// child, it turns the request counting and the observer reports of src/http/metrics.ts into no-ops
// (readiness still hears of committed writes), so /metrics on and off can be timed A/B without a
// switch in the product. It fails loudly if what it patches has moved.
import * as metrics from '../src/http/metrics';

const proto = metrics.AppMetrics?.prototype as unknown as Record<string, unknown> | undefined;
if (!proto || typeof proto.request !== 'function' || typeof proto.transaction !== 'function') {
  throw new Error(
    'bench/metricsOff: AppMetrics (src/http/metrics) no longer has request()/transaction(); update the bench',
  );
}
proto.request = () => undefined;
proto.transaction = function (this: { storage: { wroteOk(): void } }, _s: number, _r: number, outcome: string) {
  if (outcome === 'committed') this.storage.wroteOk();
};
for (const name of ['composite', 'batch', 'connectorStep']) {
  if (typeof proto[name] === 'function') proto[name] = () => undefined;
}
