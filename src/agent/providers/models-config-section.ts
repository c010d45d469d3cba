import { defineConfigSection } from '../../config/config-section-definition.js';
import { readModelSettings, type ModelSettingsTable } from './model-settings.js';

/** `models:` (Python Opsmate's `OPSMATE_MODELS_CONFIG:`): per-model settings, by model name. */
export const modelsConfigSection = defineConfigSection<ModelSettingsTable>({
  name: 'models',
  // Python Opsmate's name for it: an Opsmate user's file works as it is.
  aliases: ['OPSMATE_MODELS_CONFIG'],
  description: 'per-model settings: temperature, reasoning effort, thinking, max output tokens, price',
  read: readModelSettings,
  rows: (table) =>
    [...table].map(([name, entry]) => {
      const { path: _path, line: _line, ...settings } = entry;
      return {
        name,
        keyPath: [name],
        value: Object.entries(settings)
          .map(
            ([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
          )
          .join(', '),
      };
    }),
});
