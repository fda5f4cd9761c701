/**
 * Baselines: the floor a gRPC server sets, as bare-http-target.ts does for HTTP. Both answer every unary
 * call with PredictionResponse{prediction: "ok"} after reading the request, one with grpc-js (the
 * library the gateway serves gRPC with), one straight on node:http2 (the least a Node gRPC server can
 * do: read the length-prefixed message, answer headers, one message, trailers). The gap between them
 * is what grpc-js costs; the gap to bare node:http is what HTTP/2 itself costs.
 */
import { constants, createServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Server, ServerCredentials, type ServiceDefinition, type sendUnaryData } from '@grpc/grpc-js';
import { GRPC_SERVICES, loadGrpcDefinitions } from '@model-server/gateway';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import type { BareGrpcTargetConfig } from './target-messages.js';

const predictions = (loadGrpcDefinitions()[GRPC_SERVICES.torchServeInference] as ServiceDefinition)['Predictions']!;
const OK = { prediction: Buffer.from('ok') };

function startGrpcJs(): void {
  const server = new Server();
  server.addService({ Predictions: predictions } as ServiceDefinition, {
    Predictions: (_call: unknown, callback: sendUnaryData<typeof OK>) => callback(null, OK),
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    toParent({ type: 'ready', url: `http://127.0.0.1:${port}`, grpc: `127.0.0.1:${port}`, pid: process.pid });
  });
}

function startHttp2(): void {
  const body = predictions.responseSerialize(OK);
  const framed = Buffer.alloc(5 + body.byteLength);
  framed.writeUInt32BE(body.byteLength, 1);
  body.copy(framed, 5);
  const head = { [constants.HTTP2_HEADER_STATUS]: 200, [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc' };
  const trailers = { 'grpc-status': '0' };
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      // Decoded as a real server would, so the floor includes reading the message.
      predictions.requestDeserialize(Buffer.concat(chunks).subarray(5));
      stream.respond(head, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers(trailers));
      stream.end(framed);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    toParent({ type: 'ready', url: `http://127.0.0.1:${port}`, grpc: `127.0.0.1:${port}`, pid: process.pid });
  });
}

onParentMessage((msg: Message) => {
  if (msg.type === 'start') ((msg as Message & { config: BareGrpcTargetConfig }).config.implementation === 'grpc-js' ? startGrpcJs : startHttp2)();
  else if (msg.type === 'stop') process.exit(0);
});
