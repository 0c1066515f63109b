// The header with which the bench switches a request's metrics off on the server that preloads
// bench/metricsSwitch.ts; its own module, so the bench process can name it without loading the switch.
export const METRICS_SWITCH_HEADER = 'x-bench-metrics';
