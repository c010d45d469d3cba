export {
  FakeLlmServer,
  systemPromptOf,
  toolResultsOf,
  toolNamesOf,
  toolDescriptionsOf,
  userTextsOf,
  type FakeLlmOptions,
} from './fake-llm-server.js';
export type {
  FakeReply,
  FakeMessage,
  FakeToolCall,
  FakeFailure,
  FakeUsage,
  RecordedRequest,
} from './fake-llm-types.js';
export { eventFrame } from './bedrock-protocol.js';
