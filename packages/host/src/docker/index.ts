export * from './containerActions.ts';
export * from './containerEvents.ts';
export * from './describeOnHost.ts';
export * from './dockerClient.ts';
export * from './errors.ts';
export * from './hostUsers.ts';
export * from './inspectContainer.ts';
export * from './userDocker.ts';
