import type { ModelMessage } from 'ai';
import type { TurnOutcome } from '../../agent/agent-loop.js';
import { addUsage, NO_USAGE } from '../../agent/providers/model-prices.js';
import { sessionsDir } from '../../config/settings.js';
import { errorMessage } from '../../errors/opsmate-error.js';
import { SecretRedactor } from '../../safety/secret-redactor.js';
import {
  SESSION_FORMAT_VERSION,
  type SessionRecord,
  type SessionTurn,
  type StopReason,
} from '../../sessions/session-record.js';
import { SessionStore } from '../../sessions/session-store.js';
import { TurnRecorder } from '../../sessions/turn-recorder.js';
import type { CliContext } from '../cli-context.js';
import type { OpenedAgent } from './open-agent.js';
import { sessionWhere } from './open-agent.js';

/** The sessions folder in opsmate's home. */
export function sessionStoreFor(settings: { home?: string | undefined }): SessionStore {
  return new SessionStore(sessionsDir(settings));
}

/**
 * Keeps the record of a `run`, `solve` or `chat` in opsmate's home: every turn's instruction,
 * commands, answer, tokens and timings, and the conversation as the model saw it, masked for
 * secrets like everything the model sees (whatever `--redact` says, as for the audit log).
 * Saved after every turn; a session that cannot be saved is a warning, not a failure.
 */
export class SessionRecorder {
  readonly #context: CliContext;
  readonly #agent: OpenedAgent;
  readonly #store: SessionStore;
  readonly #record: SessionRecord;
  readonly #redactor: SecretRedactor;
  readonly #enabled: boolean;
  #masked: ModelMessage[] = [];
  #maskedFrom = 0;
  #warned = false;

  constructor(options: {
    context: CliContext;
    agent: OpenedAgent;
    kind: SessionRecord['kind'];
    /** A session to go on with (`chat --resume`). */
    resumed?: SessionRecord | undefined;
    enabled: boolean;
  }) {
    const { agent, resumed } = options;
    this.#context = options.context;
    this.#agent = agent;
    this.#enabled = options.enabled;
    this.#store = sessionStoreFor(agent.settings);
    this.#redactor = new SecretRedactor({ env: options.context.config.env });
    const now = new Date().toISOString();
    this.#record = resumed
      ? { ...resumed, model: agent.modelName, provider: agent.model.provider, modelId: agent.model.modelId }
      : {
          version: SESSION_FORMAT_VERSION,
          id: agent.sessionId,
          kind: options.kind,
          createdAt: now,
          updatedAt: now,
          model: agent.modelName,
          provider: agent.model.provider,
          modelId: agent.model.modelId,
          // A session over several targets names them all (`{ targets: 'web-1, db' }`).
          ...sessionWhere(agent),
          policyProfile: agent.runtime.profile,
          turns: 0,
          title: '',
          usage: NO_USAGE,
          system: '',
          messages: [],
          history: [],
        };
    if (resumed) {
      this.#masked = [...resumed.messages];
      this.#maskedFrom = resumed.messages.length;
    }
  }

  get id(): string {
    return this.#record.id;
  }

  get record(): Readonly<SessionRecord> {
    return this.#record;
  }

  /** Starts recording a turn; feed the returned recorder the turn's events. */
  beginTurn(instruction: string): TurnRecorder {
    return new TurnRecorder({ instruction, price: this.#agent.price });
  }

  /** Ends a turn: adds it to the record (masked) and saves the session. Returns the turn, masked. */
  endTurn(
    turn: TurnRecorder,
    result: { outcome?: TurnOutcome; stopReason: StopReason; error?: string },
  ): SessionTurn {
    const finished = this.#mask(turn.finish(result));
    const record = this.#record;
    record.history.push({
      ...finished,
      commands: finished.commands.map(({ stdout: _o, stderr: _e, ...rest }) => rest),
    });
    record.turns = record.history.length;
    record.title ||= oneLine(finished.instruction);
    record.updatedAt = finished.finishedAt;
    record.usage = addUsage(record.usage, finished.usage);
    const cost = record.history.reduce<number | undefined>(
      (sum, item) => (item.costUsd === undefined ? sum : (sum ?? 0) + item.costUsd),
      undefined,
    );
    if (cost !== undefined) record.costUsd = Math.round(cost * 1_000_000) / 1_000_000;
    record.lastStopReason = finished.stopReason;
    record.system = this.#maskText(this.#agent.system);
    record.messages = this.#maskedMessages(this.#agent.session.history);
    this.save();
    return finished;
  }

  save(): void {
    if (!this.#enabled || this.#record.turns === 0) return;
    try {
      this.#store.save(this.#record);
    } catch (error) {
      if (this.#warned) return;
      this.#warned = true;
      this.#context.logger.warn(
        `the session could not be saved in ${this.#store.dir}: ${errorMessage(error)}`,
      );
    }
  }

  /** Masks only the messages added since the last turn; the history only grows, unless cleared. */
  #maskedMessages(history: readonly ModelMessage[]): ModelMessage[] {
    if (history.length < this.#maskedFrom) {
      this.#masked = [];
      this.#maskedFrom = 0;
    }
    for (const message of history.slice(this.#maskedFrom)) this.#masked.push(this.#mask(message));
    this.#maskedFrom = history.length;
    return [...this.#masked];
  }

  #maskText(text: string): string {
    return this.#redactor.redact(text).text;
  }

  #mask<T>(value: T): T {
    if (typeof value === 'string') return this.#maskText(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.#mask(item)) as T;
    if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.#mask(item)])) as T;
    }
    return value;
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}
