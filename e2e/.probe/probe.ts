import { natsKillScenario, redisKillScenario, resultLine } from '@smsfleet/chaos';
const which = process.argv[2];
const down = Number(process.argv[3] ?? 10000);
const messages = Number(process.argv[4] ?? 6000);
const s = which === 'redis' ? redisKillScenario(down) : natsKillScenario(down);
const r = await s.run({ messages, log: (l) => console.log(l) });
console.log(resultLine(r));
process.exit(0);
