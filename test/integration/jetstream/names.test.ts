import { headers } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { eventMsgId, jetStreamNames, originalEventMsgId, parseEventMsgId } from '../../../src/jetstream/names.js';

describe('jetStreamNames', () => {
  it('derives streams, subjects, consumer and advisory from the prefix', () => {
    const names = jetStreamNames('wp-test');
    expect(names.eventsStream).toBe('WP_TEST_EVENTS');
    expect(names.dlqStream).toBe('WP_TEST_DLQ');
    expect(names.eventsSubjects).toBe('wp-test.events.>');
    expect(names.dlqSubjects).toBe('wp-test.dlq.>');
    expect(names.eventSubject('stripe', 'ws-1')).toBe('wp-test.events.stripe.ws-1');
    expect(names.dlqSubject('mollie', 'ws-1')).toBe('wp-test.dlq.mollie.ws-1');
    expect(names.consumer).toBe('settlement');
    expect(names.maxDeliveriesAdvisory).toBe('$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.WP_TEST_EVENTS.settlement');
    expect(names.parseSubject('wp-test.events.stripe.ws-1')).toEqual({
      kind: 'events',
      provider: 'stripe',
      workspaceId: 'ws-1',
    });
    expect(names.parseSubject('other.events.stripe.ws-1')).toBeNull();
  });

  it('refuses tokens that would change the subject', () => {
    const names = jetStreamNames('payments');
    expect(() => names.eventSubject('stripe', 'a.b')).toThrow(/workspace id/);
    expect(() => names.eventSubject('*', 'ws')).toThrow(/provider/);
    expect(() => jetStreamNames('a.b')).toThrow();
  });

  it('builds and parses event msg ids, ignoring replay suffixes', () => {
    const ws = '0b9e7c6a-5d4f-4e3a-9b2c-1d0e9f8a7b6c';
    expect(eventMsgId('stripe', ws, 'evt_1')).toBe(`stripe:${ws}:evt_1`);
    expect(parseEventMsgId(`stripe:${ws}:evt_1`)).toEqual({ provider: 'stripe', workspaceId: ws, eventId: 'evt_1' });
    expect(parseEventMsgId(`mollie:${ws}:tr_1:paid#r3`)).toEqual({
      provider: 'mollie',
      workspaceId: ws,
      eventId: 'tr_1:paid',
    });
    // round-1 ids (no workspace) still parse: old messages replayed from the stream keep deduplicating
    expect(parseEventMsgId('stripe:evt_1')).toEqual({ provider: 'stripe', eventId: 'evt_1' });
    expect(parseEventMsgId('mollie:tr_1:paid#r3')).toEqual({ provider: 'mollie', eventId: 'tr_1:paid' });
    expect(parseEventMsgId('nocolon')).toBeNull();
    const hdrs = headers();
    hdrs.set('Nats-Msg-Id', 'stripe:evt_1#r2');
    expect(originalEventMsgId(hdrs)).toBe('stripe:evt_1#r2');
    hdrs.set('Workestra-Original-Msg-Id', 'stripe:evt_1');
    expect(originalEventMsgId(hdrs)).toBe('stripe:evt_1');
    expect(originalEventMsgId(undefined)).toBeNull();
  });
});
