import { sendEntry } from './send-entry.js';

export { MAX_RECIPIENTS } from './send-entry.js';
export { MAX_SEGMENTS } from '../send-service.js';

/** `asendsms`: an admin (or the `authkey` holder) sends asynchronously, without rights or credit checks. */
export const asendsms = sendEntry({ name: 'asendsms', admin: true, sync: false });

/** `asendsmssync`: as asendsms, answering from the final status. */
export const asendsmssync = sendEntry({ name: 'asendsmssync', admin: true, sync: true });
