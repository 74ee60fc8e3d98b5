export { renderTemplate, type RenderOptions, type RenderResult } from './render-template.js';
export { evaluateBooleanExpression, MAX_EXPRESSION_DEPTH } from './boolean-expression.js';
export { isTruthy } from './truthiness.js';
export { TemplateError, type TemplateErrorCode, type TemplateNotice } from './template-error.js';
