// Public API of the plugin pipeline: load edgemicro-style plugins, define native ones, and build the
// PipelineRunner the engine calls for routes that name plugins.
export {
  createPluginPipeline,
  type PluginPipeline,
  type PluginPipelineOptions,
  type PluginRegistry,
} from './pipeline.js';
export {
  loadPlugins,
  importPluginModule,
  initPlugin,
  pluginConfig,
  PluginLoadError,
  type LoadPluginsOptions,
  type PluginModule,
} from './loader.js';
export { definePlugin, nativeHandlers } from './native-plugin.js';
export { createPluginLogger, createPluginStats } from './plugin-logger.js';
export { pluginErrorBody, pluginErrorStatus } from './error-response.js';
export { EDGEMICRO_EVENTS } from './types.js';
export type * from './types.js';
