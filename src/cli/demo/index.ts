/** The one-command demo's steps (issue 6), shared by `healthbrain demo` and the end-to-end test. */
export { ensureCounty, defaultEndDate, type CountySpec } from './county.ts';
export { runDemo, drainWithProgress, clinicianInstitutionOf, type DemoInfo, type DemoOptions, type DemoRun } from './pipeline.ts';
export { printDemo } from './print.ts';
export { rankScenario, type DemoPerson, type DemoScenario, type ScenarioCandidates } from './scenario.ts';
export { demoUsers } from './users.ts';
export { ensureWebBuilt, webBuildNeeded } from './web-build.ts';
