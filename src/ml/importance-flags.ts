/** The BatchNormalization variants of docs/METHOD.md §3.1, combinable; reference default: gamma + l1. */
export const IMPORTANCE_FLAGS = ['centering', 'gamma', 'l1', 'l2'] as const;
export type ImportanceFlag = (typeof IMPORTANCE_FLAGS)[number];
