import { PrivateNats } from '@smsfleet/harness';
import { EventBus } from '@smsfleet/bus';
const nats = await new PrivateNats().start();
const bus = await EventBus.connect({ url: nats.url, prefix: 'probe' });
let acked = 0;
const N = Number(process.argv[2] ?? 20000);
// Publish in parallel bursts, kill -9 right after the last ack.
for (let i = 0; i < N; i += 200) {
  await Promise.all(Array.from({ length: 200 }, (_, k) => bus.publish('final', [{ smsid: `m${i + k}` }], `id${i + k}`).then(() => acked++)));
}
await nats.kill();
await nats.start();
const info = await (bus as unknown as { jsm: { streams: { info(n: string): Promise<{ state: { messages: number } }> } } }).jsm.streams.info(bus.streamName).catch(async () => {
  await new Promise((r) => setTimeout(r, 2000));
  return (bus as unknown as { jsm: { streams: { info(n: string): Promise<{ state: { messages: number } }> } } }).jsm.streams.info(bus.streamName);
});
console.log(`acked ${acked}, stored after kill -9 + restart: ${info.state.messages}`);
await bus.close();
await nats.stop();
process.exit(0);
