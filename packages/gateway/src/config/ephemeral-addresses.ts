/**
 * Every listener on loopback and a port the kernel picks: for a gateway started from code next to
 * others (tests, benchmarks, scripts), where the default fixed ports would collide. All five are here,
 * gRPC's included, because leaving one out binds its default port and fails once two run.
 */
export const EPHEMERAL_LOOPBACK = Object.freeze({
  inference_address: 'http://127.0.0.1:0',
  management_address: 'http://127.0.0.1:0',
  metrics_address: 'http://127.0.0.1:0',
  grpc_inference_port: 0,
  grpc_management_port: 0,
});
