import { z } from 'zod';
import { SMS_STATES } from '@smsfleet/core';

/** Limits of the /v1 API (documented in the OpenAPI file through the schemas below). */
export const MAX_MESSAGE_RECIPIENTS = 1000;
export const MAX_BATCH_RECIPIENTS = 100_000;
export const MAX_TEXT_CHARS = 10_000;
/** How far ahead a batch may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 3600_000;

/** Every schema here is registered by id, and the OpenAPI document refers to them by that id. */
export const schemas = z.registry<{ id: string }>();

const Text = z.string().min(1).max(MAX_TEXT_CHARS).describe('Message text (GSM 03.38 or Unicode)');
const Sender = z.string().max(20).describe('Sender: a number or an alphanumeric id of at most 11 characters');
const Number_ = z.string().min(1).max(32).describe('Recipient number, digits with an optional leading +');

export const SendMessageRequest = z
  .object({
    to: z
      .union([Number_, z.array(Number_).min(1).max(MAX_MESSAGE_RECIPIENTS)])
      .describe(`One recipient, or up to ${MAX_MESSAGE_RECIPIENTS} that receive the same text`),
    text: Text,
    from: Sender.optional(),
  })
  .strict();
schemas.add(SendMessageRequest, { id: 'SendMessageRequest' });

export const AcceptedMessage = z.object({
  smsid: z.string(),
  to: z.string(),
  state: z.literal('accepted'),
});
schemas.add(AcceptedMessage, { id: 'AcceptedMessage' });

export const SendMessageResponse = z.object({ messages: z.array(AcceptedMessage) });
schemas.add(SendMessageResponse, { id: 'SendMessageResponse' });

export const BatchRecipient = z
  .object({
    to: Number_,
    text: Text.optional().describe('Text for this recipient; default: the batch text'),
    from: Sender.optional(),
  })
  .strict();
schemas.add(BatchRecipient, { id: 'BatchRecipient' });

export const CreateBatchRequest = z
  .object({
    recipients: z.array(BatchRecipient).min(1).max(MAX_BATCH_RECIPIENTS),
    text: Text.optional().describe('Text of every recipient without its own'),
    from: Sender.optional(),
    scheduleAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Send at this time (RFC 3339); default: now. At most 30 days ahead.'),
  })
  .strict();
schemas.add(CreateBatchRequest, { id: 'CreateBatchRequest' });

export const BatchState = z.enum(['queuing', 'queued', 'cancelled', 'failed']);

export const Batch = z.object({
  id: z.string(),
  state: BatchState.describe(
    'queuing: chunks are being added; queued: every message is queued; cancelled; failed: could not be queued',
  ),
  total: z.number().int().describe('Recipients in the batch'),
  queued: z.number().int().describe('Accepted and not yet handed to a provider'),
  submitted: z.number().int().describe('Handed to a provider'),
  delivered: z.number().int(),
  failed: z.number().int().describe('Ended failed, undelivered, expired or rejected (cancelled included)'),
  unknown: z.number().int().describe('Submitted, no delivery report configured: final'),
  completed: z.number().int().describe('In a final state; the batch is done when completed = total'),
  cancelled: z.number().int().describe('Ended failed because the batch was cancelled'),
  scheduledAt: z.string().nullable(),
  createdAt: z.string(),
});
schemas.add(Batch, { id: 'Batch' });

export const StatusEntry = z.object({
  state: z.enum(SMS_STATES),
  at: z.string().describe('RFC 3339 time of the transition'),
  reason: z.string().optional(),
  providerMessageId: z.string().optional(),
});
schemas.add(StatusEntry, { id: 'StatusEntry' });

export const MessageStatus = z.object({
  smsid: z.string(),
  to: z.string().optional(),
  batchId: z.string().optional(),
  state: z.enum(SMS_STATES),
  final: z.boolean(),
  history: z.array(StatusEntry),
});
schemas.add(MessageStatus, { id: 'MessageStatus' });

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ pointer: z.string(), detail: z.string() })).optional(),
  errorId: z.string().optional(),
});
schemas.add(Problem, { id: 'Problem' });
