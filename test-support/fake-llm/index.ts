export {
  FakeLlmServer,
  systemPromptOf,
  toolResultsOf,
  toolNamesOf,
  toolDescriptionsOf,
  userTextsOf,
  type FakeLlmOptions,
  type RecordedEmbeddingRequest,
} from './fake-llm-server.js';
export { fakeEmbedding, FAKE_EMBEDDING_DIMENSIONS } from './fake-embeddings.js';
export type {
  FakeReply,
  FakeMessage,
  FakeToolCall,
  FakeFailure,
  FakeUsage,
  RecordedRequest,
} from './fake-llm-types.js';
export { eventFrame } from './bedrock-protocol.js';
