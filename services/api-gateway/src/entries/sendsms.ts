import { sendEntry } from './send-entry.js';

/** `sendsms`: an end user sends asynchronously; rights and credit are checked, credit is reserved. */
export const sendsms = sendEntry({ name: 'sendsms', admin: false, sync: false });

/** `sendsmssync`: as sendsms, answering from the final status. */
export const sendsmssync = sendEntry({ name: 'sendsmssync', admin: false, sync: true });

/** `sms`: Mizu's old, deprecated name of sendsms. */
export const sms = sendEntry({ name: 'sendsms', admin: false, sync: false });
