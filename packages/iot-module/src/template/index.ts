export { renderTemplate, type RenderOptions, type RenderResult } from './render-template.js';
export {
  evaluateBooleanExpression,
  parseBooleanExpressionAt,
  MAX_EXPRESSION_DEPTH,
  type BooleanParseResult,
  type EvaluateOptions,
  type ReferenceResolver,
} from './boolean-expression.js';
export { isTruthy } from './truthiness.js';
export {
  VariableResolver,
  RESERVED_VALUES,
  DEFAULT_VALUES,
  LEGACY_VARIABLE_LIST_NAMES,
  parseVariableList,
  toDnsLabel,
  type VariableOptions,
  type VariableSource,
  type ResolvedVariable,
} from './variables.js';
export { TemplateError, type TemplateErrorCode, type TemplateNotice } from './template-error.js';
export type { SourceText } from './source-position.js';
