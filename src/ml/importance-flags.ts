/** SPEC §3's BatchNormalization variants, combinable; reference default: gamma + l1. */
export const IMPORTANCE_FLAGS = ['centering', 'gamma', 'l1', 'l2'] as const;
export type ImportanceFlag = (typeof IMPORTANCE_FLAGS)[number];
