// Property tests draw their cases from one fixed seed, so every run (and CI) checks the same
// cases and a failure reproduces; FUZZ_SEED=n explores others.
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20261202) });
