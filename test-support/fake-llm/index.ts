export {
  FakeLlmServer,
  systemPromptOf,
  toolResultsOf,
  toolNamesOf,
  toolDescriptionsOf,
  userTextsOf,
  type FakeLlmOptions,
} from './fake-llm-server.js';
export type { FakeReply, FakeMessage, FakeToolCall, FakeFailure, RecordedRequest } from './fake-llm-types.js';
