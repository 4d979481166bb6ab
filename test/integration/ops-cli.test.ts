import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionJetStream } from '../../src/jetstream/provision.js';
import { WorkestraHeader, type JetStreamNames } from '../../src/jetstream/names.js';
import { testEnv } from '../helpers/env.js';
import { runOpsCli } from '../helpers/ops.js';
import { uniquePrefix } from '../helpers/env.js';
import { runOps } from '../../src/cli/payments-ops.js';

/** The ops CLI's argument handling, confirmations and failure reporting (the built `payments-ops`, as ops run it). */
const OPS = join(__dirname, '..', '..', 'dist', 'src', 'cli', 'payments-ops.js');

describe('payments-ops: strict arguments and per-verb help', () => {
  const env = testEnv();
  /** In-process (argument handling needs no connection): fast; the built binary is exercised below. */
  async function ops(...args: string[]) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runOps(
      args,
      (line) => stdout.push(line),
      (line) => stderr.push(line),
    );
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  }
  const since = new Date(Date.now() - 3_600_000).toISOString();

  it('the built binary refuses `replay --worksapce` and `keys reencrypt --workspce` by name with exit code 2', async () => {
    const [replay, keys] = await Promise.all([
      runOpsCli(env, ['replay', '--since', since, '--worksapce', randomUUID()]),
      runOpsCli(env, ['keys', 'reencrypt', '--workspce', 'X']),
    ]);
    expect(replay.code).toBe(2);
    expect(replay.stderr.trim()).toBe(
      'payments-ops: replay: unknown option --worksapce (did you mean --workspace?); see payments-ops replay --help',
    );
    expect(keys.code).toBe(2);
    expect(keys.stderr).toContain('unknown option --workspce (did you mean --workspace?)');
    expect(replay.stdout + keys.stdout).toBe('');
  });

  it.each([
    [['replay', '--since', since, '--worksapce', randomUUID()], '--worksapce', '--workspace'],
    [['keys', 'reencrypt', '--workspce', 'X'], '--workspce', '--workspace'],
    [['status', '--jsno'], '--jsno', '--json'],
    [['dlq', 'list', '--all'], '--all', undefined],
    [['reconcile', '--dryrun'], '--dryrun', '--dry-run'],
  ])('refuses the unknown option in %j by name with exit code 2', async (args, option, suggestion) => {
    const result = await ops(...args);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`unknown option ${option}`);
    if (suggestion) expect(result.stderr).toContain(`did you mean ${suggestion}?`);
    expect(result.stdout).toBe('');
  });

  it('refuses unknown commands and verbs by name with exit code 2', async () => {
    const command = await ops('frobnicate');
    expect(command).toMatchObject({ code: 2 });
    expect(command.stderr).toContain('unknown command "frobnicate"');
    const dlqVerb = await ops('dlq', 'purge');
    expect(dlqVerb).toMatchObject({ code: 2 });
    expect(dlqVerb.stderr).toContain('unknown verb "purge"');
    const keysVerb = await ops('keys', 'rotate');
    expect(keysVerb).toMatchObject({ code: 2 });
    expect(keysVerb.stderr).toContain('unknown verb "rotate"');
  });

  it.each([
    [['--help'], 'usage: payments-ops <command>'],
    [['status', '--help'], 'usage: payments-ops status'],
    [['dlq', '--help'], 'usage: payments-ops dlq <list|replay|drop>'],
    [['dlq', 'list', '--help'], 'usage: payments-ops dlq list'],
    [['dlq', 'replay', '-h'], 'usage: payments-ops dlq replay'],
    [['dlq', 'drop', '--help'], 'usage: payments-ops dlq drop'],
    [['replay', '--help'], 'usage: payments-ops replay --since'],
    [['reconcile', '--help'], 'usage: payments-ops reconcile'],
    [['keys', '--help'], 'usage: payments-ops keys reencrypt'],
    [['keys', 'reencrypt', '--help'], 'usage: payments-ops keys reencrypt'],
  ])('answers %j with its usage and exit code 0', async (args, usage) => {
    const result = await ops(...args);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(usage);
  });

  it('takes no value for a switch: --dry-run=no is refused, not read as a dry run', async () => {
    const result = await ops('replay', '--since', since, '--dry-run=no');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--dry-run is a switch and takes no value');
  });

  it('refuses --until before --since', async () => {
    const result = await ops('replay', '--since', '2026-11-27T12:00:00Z', '--until', '2026-11-27T11:00:00Z');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--until 2026-11-27T11:00:00.000Z is before --since 2026-11-27T12:00:00.000Z');
  });

  it('names the stream and NATS_SUBJECT_PREFIX when the streams do not exist', async () => {
    const prefix = uniquePrefix();
    const result = await runOpsCli({ ...env, NATS_SUBJECT_PREFIX: prefix }, ['status']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`JetStream stream ${prefix.toUpperCase()}_EVENTS does not exist`);
    expect(result.stderr).toContain(`NATS_SUBJECT_PREFIX is "${prefix}"`);
    const replay = await runOpsCli({ ...env, NATS_SUBJECT_PREFIX: prefix }, ['replay', '--since', since]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain(`${prefix.toUpperCase()}_EVENTS does not exist`);
  });
});

describe('payments-ops: dead letters and replay failures', () => {
  let nc: NatsConnection;
  let names: JetStreamNames;
  let env: Record<string, string>;
  const ops = (...args: string[]) => runOpsCli(env, args);
  const workspaceId = randomUUID();
  beforeAll(async () => {
    nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    ({ names } = await provisionJetStream(nc, {
      prefix: uniquePrefix(),
      maxDeliver: 3,
      backoffMs: [100],
    }));
    env = testEnv({ NATS_SUBJECT_PREFIX: names.prefix });
  });
  afterAll(async () => nc?.close());

  /** Puts a malformed message straight into the DLQ, as the forwarder would copy it (no error recorded). */
  async function malformedDeadLetter(eventId: string): Promise<number> {
    const hdrs = headers();
    hdrs.set(WorkestraHeader.OriginalMsgId, `stripe:${eventId}`);
    hdrs.set(WorkestraHeader.OriginalSubject, names.eventSubject('stripe', workspaceId));
    hdrs.set(WorkestraHeader.Deliveries, '3');
    hdrs.set(WorkestraHeader.LastError, 'unknown (no error recorded)');
    hdrs.set(WorkestraHeader.DeadAt, new Date().toISOString());
    const ack = await jetstream(nc).publish(names.dlqSubject('stripe', workspaceId), 'not json{', { headers: hdrs });
    return ack.seq;
  }

  /** Runs the CLI on a pseudo-terminal (util-linux `script`), answering its question with `answer`. */
  function onTerminal(args: string[], answer: string): Promise<{ code: number | null; output: string }> {
    const command = ['node', OPS, ...args].map((part) => `'${part}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('[y/N]') && !child.stdin.writableEnded) child.stdin.end(`${answer}\n`);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
  }

  it('replays an empty DLQ with --all as a success that says there is nothing to replay', async () => {
    const result = await ops('dlq', 'replay', '--all');
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('The dead-letter queue is empty: nothing to replay.');
  });

  it('shows why a malformed dead letter can never settle instead of "no error recorded"', async () => {
    const seq = await malformedDeadLetter('evt_malformed');
    const [entry] = JSON.parse((await ops('dlq', 'list', '--json')).stdout) as Array<Record<string, unknown>>;
    expect(entry).toMatchObject({ seq, eventId: 'evt_malformed', type: 'unparseable', workspaceId });
    expect(entry.lastError).toMatch(/^malformed message: the body is not JSON/);
    expect((await ops('dlq', 'list')).stdout).toContain('malformed message: the body is not JSON');
    await ops('dlq', 'drop', String(seq), '--yes');
  });

  it('dlq drop refuses without a terminal and without --yes (exit 2), and asks on a terminal', async () => {
    const seq = await malformedDeadLetter('evt_drop');
    const refused = await ops('dlq', 'drop', String(seq));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('confirm with --yes');

    const declined = await onTerminal(['dlq', 'drop', String(seq)], 'n');
    expect(declined.output).toContain(`Delete 1 dead letter (#${seq}) for good? [y/N]`);
    expect(declined.output).toContain('Nothing dropped.');
    expect(declined.code).toBe(1);
    expect((JSON.parse((await ops('dlq', 'list', '--json')).stdout) as unknown[]).length).toBe(1);

    const accepted = await onTerminal(['dlq', 'drop', String(seq)], 'y');
    expect(accepted.output).toContain(`dropped DLQ #${seq}`);
    expect(accepted.code).toBe(0);
    expect(JSON.parse((await ops('dlq', 'list', '--json')).stdout)).toEqual([]);
  });

  it('prints replay failures as readable lines, with sequence, event id and reason in --json (pino JSON only with --log-json)', async () => {
    const js = jetstream(nc);
    const since = new Date(Date.now() - 1000).toISOString();
    const ack = await js.publish(names.eventSubject('stripe', workspaceId), '{"provider":"stripe"}', {
      msgID: 'stripe:evt_not_an_envelope',
    });

    const json = await ops('replay', '--since', since, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      dryRun: false,
      matched: 1,
      applied: 0,
      unchanged: 0,
      failed: 1,
      failures: [{ seq: ack.seq, eventId: 'evt_not_an_envelope', reason: 'message is not an event envelope' }],
    });

    const text = await ops('replay', '--since', since);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(`failed: event #${ack.seq} evt_not_an_envelope: message is not an event envelope`);
    expect(text.stderr).not.toContain('{"level"');
    expect(text.stdout).toContain('replayed 1 events: 0 applied, 0 unchanged (already applied or ignored), 1 failed');

    const logged = await ops('replay', '--since', since, '--log-json');
    expect(logged.stderr).toMatch(/\{"level":40,.*"eventId":"evt_not_an_envelope"/);
  });
});
